/**
 * The proof-of-work puzzle the server may ask of a client that sends claims faster than a
 * person does (server/bots/bot-check.ts), ALTCHA-style: find the `number` in 0..maxNumber for
 * which SHA-256(salt + number) is `challenge`. The server signs each puzzle for one account,
 * so it checks an answer with no state but a list of answers already used.
 * Shared by the server (which makes and checks puzzles) and the browser (which solves them).
 */
export interface Challenge {
  algorithm: "SHA-256";
  /** Random text, then `.` and the puzzle's expiry (ms since the epoch). */
  salt: string;
  /** SHA-256 of salt + number, hex. */
  challenge: string;
  maxNumber: number;
  /** The server's HMAC of the puzzle for the account it was given to, hex. */
  signature: string;
}

/** What a client sends back, base64url JSON in the claim's `proof`. */
export interface Solution {
  salt: string;
  number: number;
  signature: string;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Tries every number in turn: about maxNumber / 2 hashes on average. Null if none fits. */
export async function solveChallenge(challenge: Challenge): Promise<string | null> {
  for (let number = 0; number <= challenge.maxNumber; number++) {
    if ((await sha256Hex(`${challenge.salt}${number}`)) === challenge.challenge) {
      return encodeSolution({ salt: challenge.salt, number, signature: challenge.signature });
    }
  }
  return null;
}

export function encodeSolution(solution: Solution): string {
  const bytes = new TextEncoder().encode(JSON.stringify(solution));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

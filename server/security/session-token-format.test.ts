import { describe, expect, it } from "vitest";
import { SessionCodec } from "../auth/session";

const codec = new SessionCodec("session-format-test-secret-long-enough-0123456789");
const sam = { userId: "c48uTRtqX6xr", role: "shopper" as const, displayName: "Sam" };

/** The same signature bytes written another way: base64url has one spelling per value. */
function respell(signature: string): string[] {
  const last = signature.at(-1) ?? "";
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // A 32-byte HMAC is 43 characters: the last one carries 4 bits of signature and 2 unused.
  const index = alphabet.indexOf(last);
  return [1, 2, 3].map((low) => `${signature.slice(0, -1)}${alphabet[(index & ~3) | low]}`);
}

describe("issue 14 item 10: the session reader takes the token exactly as issued", () => {
  it("refuses a token with anything after, inside or instead of its signature's characters", async () => {
    const good = await codec.issue(sam);
    expect(codec.read(good)).toMatchObject({ userId: sam.userId });
    const [header, payload, signature = ""] = good.split(".");
    const altered = [
      `${good}=`,
      `${good}==`,
      `${good} `,
      `${good}%20`,
      `${good}!`,
      `${good}\n`,
      `${good}.`,
      `${header}.${payload}.${signature.slice(0, 20)}*${signature.slice(20)}`,
      `${header}.${payload}.${signature.replaceAll("-", "+").replaceAll("_", "/")}`,
      ...respell(signature)
        .filter((spelling) => spelling !== signature)
        .map((spelling) => `${header}.${payload}.${spelling}`),
    ].filter((token) => token !== good);
    for (const token of altered) expect(codec.read(token), JSON.stringify(token)).toBeNull();
  });
});

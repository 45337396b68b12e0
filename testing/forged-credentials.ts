import fc from "fast-check";
import { SignJWT } from "jose";

/** Printable ASCII only: anything else cannot be put in an HTTP header at all. */
export const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 80,
});

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * Session tokens the server must treat as no session: signed with another secret, unsigned
 * (`alg: none`), expired, for another issuer, with a role that does not exist, signed with
 * HS512, and a real token with its payload swapped or its signature cut off.
 */
export async function forgedSessionTokens(secret: string, realToken: string): Promise<string[]> {
  const key = new TextEncoder().encode(secret);
  const now = Math.floor(Date.now() / 1000);
  const claims = { role: "admin", name: "Mallory" };
  const token = (
    payload: Record<string, unknown>,
    options: { alg?: string; iss?: string; exp?: number } = {},
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: options.alg ?? "HS256" })
      .setSubject("AAAAAAAAAAAA")
      .setIssuer(options.iss ?? "dealdrop")
      .setIssuedAt(now - 7_200)
      .setExpirationTime(options.exp ?? now + 3_600);
  const [header = "", , signature = ""] = realToken.split(".");
  return [
    await token(claims).sign(new TextEncoder().encode("another secret, 32 characters long!!")),
    `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ ...claims, sub: "AAAAAAAAAAAA", iss: "dealdrop", exp: now + 3_600 })}.`,
    await token(claims, { exp: now - 60 }).sign(key),
    await token(claims, { iss: "someone-else" }).sign(key),
    await token({ ...claims, role: "superuser" }).sign(key),
    await token(claims, { alg: "HS512" }).sign(key),
    `${header}.${base64url({ ...claims, sub: "AAAAAAAAAAAA", iss: "dealdrop", exp: now + 3_600 })}.${signature}`,
    `${header}.${realToken.split(".")[1]}.`,
  ];
}

/** `Cookie` headers with a bad `dd_session`: forged tokens, garbage, empty, doubled, 100 KB. */
export function badCookieHeaders(forged: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...forged).map((token) => `dd_session=${token}`),
    headerText.map((text) => `dd_session=${text}`),
    headerText,
    fc.constantFrom(
      "dd_session",
      "dd_session=",
      "=;;; =",
      `dd_session=${"x".repeat(100_000)}`,
      `dd_session=${forged[0]}; dd_session=garbage`,
    ),
  );
}

/** `x-device-credential` headers that enrol nothing: garbage, unknown device, wrong secret. */
export function badDeviceCredentials(realCredential: string): fc.Arbitrary<string> {
  const [deviceId = ""] = realCredential.split(".");
  return fc.oneof(
    headerText,
    fc.stringMatching(/^[0-9A-Za-z]{12}\.[A-Za-z0-9_-]{43}$/),
    fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((secret) => `${deviceId}.${secret}`),
    fc.constantFrom(`${realCredential}x`, `${deviceId}.`, "x".repeat(100_000)),
  );
}

import "server-only";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { SignJWT } from "jose";
import { z } from "zod";

export const SESSION_COOKIE = "dd_session";
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const ISSUER = "dealdrop";
/** The one JWT header sessions are issued with, and so the only one `read` accepts. */
const PROTECTED_HEADER = { alg: "HS256" } as const;
const ENCODED_HEADER = Buffer.from(JSON.stringify(PROTECTED_HEADER)).toString("base64url");

const sessionClaims = z.object({
  iss: z.string(),
  exp: z.number(),
  sub: z.string(),
  role: z.enum(["shopper", "merchant", "admin"]),
  mid: z.string().optional(),
  name: z.string(),
  /** The session's own id (sign-out ends this one) and the account's generation at issue. */
  sid: z.string().optional(),
  gen: z.number().int().nonnegative().optional(),
});

export interface Session {
  userId: string;
  role: "shopper" | "merchant" | "admin";
  merchantId?: string;
  displayName: string;
  /** Set on every session this codec issues; absent on tokens issued before revocation. */
  sessionId?: string;
  /** The account's session generation the token was issued under (server/auth/sessions.ts). */
  generation?: number;
}

/**
 * Sessions are HMAC-signed tokens in an HttpOnly cookie: checking one is a few microseconds
 * of CPU and no database round trip, which the claim path needs in the first second of a sale.
 * Whether the account still stands behind it (not signed out, deactivated or changed since) is
 * the next check, `Sessions.read` (server/auth/sessions.ts), from a cached copy of the account.
 * jose signs; reading is plain node:crypto HMAC, synchronous: jose's WebCrypto path imports
 * the key and crosses into async crypto on every call, which was a quarter of the claim
 * route's CPU under load (bench, 2026-11-22).
 */
export class SessionCodec {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(session: Session): Promise<string> {
    return new SignJWT({
      role: session.role,
      mid: session.merchantId,
      name: session.displayName,
      sid: session.sessionId ?? randomBytes(12).toString("base64url"),
      gen: session.generation ?? 0,
    })
      .setProtectedHeader(PROTECTED_HEADER)
      .setSubject(session.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${SESSION_TTL_SECONDS}s`)
      .sign(this.key);
  }

  /** The session a token carries, or null for anything not issued by us and unexpired. */
  read(token: string | undefined): Session | null {
    // header.payload.signature, with exactly the header `issue` writes: no other algorithm or
    // critical extension can be slipped in, and the header needs no decoding.
    const parts = token?.split(".");
    if (parts?.length !== 3 || parts[0] !== ENCODED_HEADER) return null;
    const [header, payload = "", signature = ""] = parts;
    // Compared as text, not as decoded bytes: Node's base64url decoder skips characters
    // outside the alphabet and ignores a last character's unused bits, so `<token>=`,
    // `<token>%20` or a respelled last character decoded to the same bytes and was accepted.
    const expected = Buffer.from(
      createHmac("sha256", this.key).update(`${header}.${payload}`).digest("base64url"),
    );
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      // Signed by our key, so it parses; checked anyway, as a JWT reader must.
      const claims = sessionClaims.parse(
        JSON.parse(Buffer.from(payload, "base64url").toString("utf8")),
      );
      if (claims.iss !== ISSUER || claims.exp * 1_000 <= Date.now()) return null;
      return {
        userId: claims.sub,
        role: claims.role,
        merchantId: claims.mid,
        displayName: claims.name,
        sessionId: claims.sid,
        generation: claims.gen,
      };
    } catch {
      return null;
    }
  }

  cookie(token: string, secure: boolean): string {
    return serializeCookie(SESSION_COOKIE, token, SESSION_TTL_SECONDS, secure);
  }

  clearingCookie(secure: boolean): string {
    return serializeCookie(SESSION_COOKIE, "", 0, secure);
  }
}

function serializeCookie(name: string, value: string, maxAge: number, secure: boolean): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

/** One cookie's value from a Cookie header; scans in place, as every claim reads one. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  const prefix = `${name}=`;
  for (let start = 0; start < header.length; ) {
    while (header.charCodeAt(start) === 32) start++;
    const semicolon = header.indexOf(";", start);
    const end = semicolon === -1 ? header.length : semicolon;
    if (header.startsWith(prefix, start)) return header.slice(start + prefix.length, end).trim();
    start = end + 1;
  }
  return undefined;
}

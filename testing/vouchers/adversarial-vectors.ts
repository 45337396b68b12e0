import {
  base64url,
  CompactSign,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
} from "jose";
import { signVoucher } from "../../lib/vouchers/sign-voucher";
import {
  type VerifyVoucherResult,
  type VoucherRejection,
  verifyVoucher,
} from "../../lib/vouchers/verify-voucher";
import type { VoucherPayload, VoucherPublicKey } from "../../lib/vouchers/voucher-format";

/**
 * Attacks on the voucher format with the verdict each must get. Built in Node (it needs
 * private keys) and run unchanged in Node (vitest) and in Chromium (Playwright), so the one
 * verifier is proven the same in both. Everything here is plain JSON so it can cross into a page.
 */
export interface VoucherVector {
  name: string;
  token: string;
  expected: VoucherRejection | "VALID";
  nowMs: number;
}

export interface VoucherVectorSuite {
  keys: VoucherPublicKey[];
  merchantId: string;
  clockSkewSeconds: number;
  revokedIds: string[];
  redeemed: { voucherId: string; redeemedAtMs: number; where: string }[];
  vectors: VoucherVector[];
}

const SKEW = 120;
const ISSUED = 1_795_000_000;
const EXPIRES = ISSUED + 7 * 24 * 3_600;
const at = (seconds: number) => seconds * 1_000;

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

async function publishedKey(alg: "ES256" | "RS256") {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey: pair.privateKey, publicJwk: { ...jwk, kid, alg, use: "sig" } as JWK };
}

export async function buildVoucherVectors(): Promise<VoucherVectorSuite> {
  const current = await publishedKey("ES256");
  const previous = await publishedKey("ES256");
  const stranger = await publishedKey("ES256");
  const rsa = await publishedKey("RS256");
  const kid = String(current.publicJwk.kid);
  const merchantId = "MerchantAAAA";

  const payload = (voucherId: string, changes: Partial<VoucherPayload> = {}): VoucherPayload => ({
    jti: voucherId,
    d: "DealXXXXXXXX",
    m: merchantId,
    sub: "pairwiseSub1",
    iat: ISSUED,
    nbf: ISSUED,
    exp: EXPIRES,
    ...changes,
  });
  const sign = (p: VoucherPayload, key = current) =>
    signVoucher(p, { kid: String(key.publicJwk.kid), privateKey: key.privateKey });
  const signWithHeader = (
    header: Record<string, unknown>,
    p: unknown,
    key: CryptoKey | Uint8Array,
  ) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(p)))
      .setProtectedHeader(header as { alg: string })
      .sign(key);

  const valid = await sign(payload("Voucher00001"));
  const [header, body, signature] = valid.split(".") as [string, string, string];
  const during = at(ISSUED + 3_600);
  const vector = (
    name: string,
    token: string,
    expected: VoucherVector["expected"],
    nowMs = during,
  ): VoucherVector => ({ name, token, expected, nowMs });

  const hmacSecret = new TextEncoder().encode(JSON.stringify(current.publicJwk));
  const vectors: VoucherVector[] = [
    vector("a valid voucher", valid, "VALID"),
    vector(
      "signed by the previous key, still published",
      await sign(payload("Voucher00002"), previous),
      "VALID",
    ),
    vector(
      "payload tampered (another deal)",
      `${header}.${encodeJson(payload("Voucher00001", { d: "DealYYYYYYYY" }))}.${signature}`,
      "BAD_SIGNATURE",
    ),
    vector(
      "header kid swapped to another published key",
      `${encodeJson({ alg: "ES256", kid: previous.publicJwk.kid, typ: "dv1" })}.${body}.${signature}`,
      "BAD_SIGNATURE",
    ),
    vector(
      "alg none",
      `${encodeJson({ alg: "none", kid, typ: "dv1" })}.${body}.`,
      "UNSUPPORTED_ALG",
    ),
    vector(
      "HS256 signed with the public key as the HMAC secret",
      await signWithHeader({ alg: "HS256", kid, typ: "dv1" }, payload("Voucher00001"), hmacSecret),
      "UNSUPPORTED_ALG",
    ),
    vector(
      "RS256 with a key in the set",
      await signWithHeader(
        { alg: "RS256", kid: rsa.publicJwk.kid, typ: "dv1" },
        payload("Voucher00001"),
        rsa.privateKey,
      ),
      "UNSUPPORTED_ALG",
    ),
    vector(
      "ES256 with a key not in the set",
      await sign(payload("Voucher00001"), stranger),
      "UNKNOWN_KEY",
    ),
    vector(
      "ES256 naming a kid that is an RSA key in the set",
      await signWithHeader(
        { alg: "ES256", kid: rsa.publicJwk.kid, typ: "dv1" },
        payload("Voucher00001"),
        current.privateKey,
      ),
      "UNKNOWN_KEY",
    ),
    vector("truncated token", valid.slice(0, valid.length - 10), "MALFORMED"),
    vector("truncated inside the payload", valid.slice(0, header.length + 20), "MALFORMED"),
    vector("a 10 KB token", `${header}.${"A".repeat(10_240)}.${signature}`, "MALFORMED"),
    vector(
      "non-base64url characters",
      `${header}.${body.slice(0, 10)}+/=${body.slice(13)}.${signature}`,
      "MALFORMED",
    ),
    vector("an empty string", "", "MALFORMED"),
    vector("a web address, as a wrong QR code would give", "https://example.com/menu", "MALFORMED"),
    vector(
      "another typ",
      await signWithHeader(
        { alg: "ES256", kid, typ: "JWT" },
        payload("Voucher00001"),
        current.privateKey,
      ),
      "MALFORMED",
    ),
    vector(
      "properly signed, but a claim is missing",
      await signWithHeader(
        { alg: "ES256", kid, typ: "dv1" },
        { ...payload("Voucher00001"), m: undefined },
        current.privateKey,
      ),
      "MALFORMED",
    ),
    vector("one second after exp + skew", valid, "EXPIRED", at(EXPIRES + SKEW + 1)),
    vector("exactly at exp + skew", valid, "VALID", at(EXPIRES + SKEW)),
    vector("one second before nbf - skew", valid, "NOT_YET_VALID", at(ISSUED - SKEW - 1)),
    vector("exactly at nbf - skew", valid, "VALID", at(ISSUED - SKEW)),
    vector(
      "another merchant's voucher",
      await sign(payload("Voucher00003", { m: "MerchantBBBB" })),
      "WRONG_MERCHANT",
    ),
    vector("revoked", await sign(payload("Voucher00004")), "REVOKED"),
    vector("already redeemed", await sign(payload("Voucher00005")), "ALREADY_REDEEMED"),
  ];

  return {
    keys: [current.publicJwk, previous.publicJwk, rsa.publicJwk] as VoucherPublicKey[],
    merchantId,
    clockSkewSeconds: SKEW,
    revokedIds: ["Voucher00004"],
    redeemed: [{ voucherId: "Voucher00005", redeemedAtMs: during - 60_000, where: "Till 1" }],
    vectors,
  };
}

export interface VectorOutcome {
  name: string;
  expected: VoucherVector["expected"];
  actual: VoucherVector["expected"];
  result: VerifyVoucherResult;
}

/** Runs every vector through `verifyVoucher`; the same code runs in Node and in a page. */
export async function runVoucherVectors(suite: VoucherVectorSuite): Promise<VectorOutcome[]> {
  const revoked = new Set(suite.revokedIds);
  const redeemed = new Map(suite.redeemed.map((r) => [r.voucherId, r]));
  const outcomes: VectorOutcome[] = [];
  for (const v of suite.vectors) {
    const result = await verifyVoucher(v.token, {
      keys: suite.keys,
      now: new Date(v.nowMs),
      clockSkewSeconds: suite.clockSkewSeconds,
      merchantId: suite.merchantId,
      isRevoked: (id) => revoked.has(id),
      isRedeemed: async (id) => {
        const first = redeemed.get(id);
        return first ? { redeemedAt: new Date(first.redeemedAtMs), where: first.where } : null;
      },
    });
    outcomes.push({
      name: v.name,
      expected: v.expected,
      actual: result.ok ? "VALID" : result.reason,
      result,
    });
  }
  return outcomes;
}

import { base64url, compactVerify, decodeProtectedHeader, errors, importJWK, type JWK } from "jose";
import {
  MAX_VOUCHER_TOKEN_LENGTH,
  VOUCHER_ALG,
  VOUCHER_TYP,
  type Voucher,
  type VoucherPublicKey,
  voucherFromPayload,
  voucherPayloadSchema,
} from "./voucher-format";

export type VoucherRejection =
  | "MALFORMED"
  | "UNSUPPORTED_ALG"
  | "UNKNOWN_KEY"
  | "BAD_SIGNATURE"
  | "NOT_YET_VALID"
  | "EXPIRED"
  | "WRONG_MERCHANT"
  | "REVOKED"
  | "ALREADY_REDEEMED";

/** Where and when a voucher was first redeemed, as the caller's store knows it. */
export interface FirstRedemption {
  redeemedAt: Date;
  where?: string;
}

type Awaitable<T> = T | Promise<T>;

export interface VerifyVoucherOptions {
  /** The published key set (`keys` of /.well-known/jwks.json). Only these keys are trusted. */
  keys: readonly VoucherPublicKey[];
  now: Date;
  /** How far the verifying clock may be off from the issuer's, both ways. */
  clockSkewSeconds: number;
  /** The merchant at this counter; a voucher for another merchant is refused. */
  merchantId?: string;
  isRevoked?: (voucherId: string) => Awaitable<boolean>;
  /** Returns the first redemption of the voucher, or null when it has none. */
  isRedeemed?: (voucherId: string) => Awaitable<FirstRedemption | null>;
}

export type VerifyVoucherResult =
  | { ok: true; voucher: Voucher }
  | {
      ok: false;
      reason: VoucherRejection;
      message: string;
      /** Present once the signature has been checked, so a screen can name the deal. */
      voucher?: Voucher;
      firstRedemption?: FirstRedemption;
    };

/** Three base64url parts; the signature may be empty so that `alg: none` is named as such. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** An ES256 signature is r || s, 64 bytes: 86 base64url characters. */
const ES256_SIGNATURE_LENGTH = 86;

const rejected = (
  reason: VoucherRejection,
  message: string,
  extra: { voucher?: Voucher; firstRedemption?: FirstRedemption } = {},
): VerifyVoucherResult => ({ ok: false, reason, message, ...extra });

/**
 * Checks a voucher token the same way in the browser (WebCrypto) and on the server. The
 * algorithm is pinned to ES256 and the key is picked by `kid` from the given set only, so a
 * token cannot choose its own key or algorithm. Checks run cheapest and least trusting first;
 * nothing from the payload is believed before the signature holds.
 */
export async function verifyVoucher(
  token: unknown,
  options: VerifyVoucherOptions,
): Promise<VerifyVoucherResult> {
  if (typeof token !== "string" || token.length > MAX_VOUCHER_TOKEN_LENGTH) {
    return rejected("MALFORMED", "This is not a Dealdrop voucher (wrong size).");
  }
  const compact = token.trim();
  if (!COMPACT_JWS.test(compact)) {
    return rejected("MALFORMED", "This is not a Dealdrop voucher (not a signed token).");
  }

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(compact);
  } catch {
    return rejected("MALFORMED", "The voucher's header cannot be read.");
  }
  if (header.alg !== VOUCHER_ALG) {
    return rejected(
      "UNSUPPORTED_ALG",
      `Vouchers are signed with ES256, not ${String(header.alg)}.`,
    );
  }
  if (header.typ !== VOUCHER_TYP || header.crit !== undefined || header.b64 !== undefined) {
    return rejected("MALFORMED", "The voucher's header is not one Dealdrop issues.");
  }
  if (compact.slice(compact.lastIndexOf(".") + 1).length !== ES256_SIGNATURE_LENGTH) {
    return rejected("MALFORMED", "The voucher's signature has the wrong length.");
  }
  const jwk = options.keys.find((key) => key.kid === header.kid);
  const key = jwk ? await importPublicKey(jwk) : null;
  if (!key) {
    return rejected("UNKNOWN_KEY", "The voucher was signed with a key this device does not know.");
  }

  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(compact, key, { algorithms: [VOUCHER_ALG] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return rejected("BAD_SIGNATURE", "The voucher's signature does not match: it was altered.");
    }
    return rejected("MALFORMED", "The voucher cannot be read.");
  }

  const parsed = voucherPayloadSchema.safeParse(parseJson(payloadBytes));
  if (!parsed.success) {
    return rejected("MALFORMED", "The voucher's contents are not in the expected form.");
  }
  const voucher = voucherFromPayload(parsed.data, String(header.kid));
  const nowSeconds = Math.floor(options.now.getTime() / 1_000);
  const skew = options.clockSkewSeconds;
  if (nowSeconds < parsed.data.nbf - skew) {
    return rejected("NOT_YET_VALID", "This voucher is not valid yet.", { voucher });
  }
  if (nowSeconds > parsed.data.exp + skew) {
    return rejected("EXPIRED", "This voucher has expired.", { voucher });
  }
  if (options.merchantId !== undefined && voucher.merchantId !== options.merchantId) {
    return rejected("WRONG_MERCHANT", "This voucher is for another shop.", { voucher });
  }
  if (options.isRevoked && (await options.isRevoked(voucher.id))) {
    return rejected("REVOKED", "This voucher was cancelled.", { voucher });
  }
  const firstRedemption = options.isRedeemed ? await options.isRedeemed(voucher.id) : null;
  if (firstRedemption) {
    return rejected("ALREADY_REDEEMED", "This voucher was already redeemed.", {
      voucher,
      firstRedemption,
    });
  }
  return { ok: true, voucher };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

const importedKeys = new WeakMap<object, Promise<CryptoKey | null>>();

/**
 * Imports only the public members of a P-256 key, once per key object: a key set that
 * carried a private member or another key type would not be used for ES256.
 */
function importPublicKey(jwk: VoucherPublicKey): Promise<CryptoKey | null> {
  let imported = importedKeys.get(jwk);
  if (!imported) {
    imported =
      jwk.kty === "EC" && jwk.crv === "P-256" && isCoordinate(jwk.x) && isCoordinate(jwk.y)
        ? importJWK({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } satisfies JWK, VOUCHER_ALG)
            .then((key) => key as CryptoKey)
            .catch(() => null)
        : Promise.resolve(null);
    importedKeys.set(jwk, imported);
  }
  return imported;
}

function isCoordinate(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    return base64url.decode(value).length === 32;
  } catch {
    return false;
  }
}

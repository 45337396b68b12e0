import "server-only";
import { type KeyObject, sign } from "node:crypto";
import type { VoucherSigningKey } from "@/lib/vouchers/sign-voucher";
import { VOUCHER_ALG, VOUCHER_TYP, type VoucherPayload } from "@/lib/vouchers/voucher-format";

/** The signing key as the server holds it: node:crypto's KeyObject, and its JWS header made once. */
export interface ServerSigningKey extends VoucherSigningKey {
  keyObject: KeyObject;
  /** base64url of the protected header, byte for byte what jose's CompactSign writes. */
  encodedHeader: string;
}

/** The header every voucher signed by this key carries, in the order jose writes it. */
export function encodedVoucherHeader(kid: string): string {
  const header = { alg: VOUCHER_ALG, kid, typ: VOUCHER_TYP };
  return Buffer.from(JSON.stringify(header)).toString("base64url");
}

/**
 * Signs a voucher as a compact ES256 JWS, the same token `signVoucher` (lib, jose over
 * WebCrypto) makes, verified by the same code. Synchronous node:crypto with a KeyObject kept
 * for the key's life: on this box about half the CPU of WebCrypto's sign, with no promise or
 * thread-pool hop per voucher, which a sale's winners all pay. The signature is IEEE P1363
 * (r || s, 64 bytes), as JWS requires, not DER.
 */
export function signVoucherToken(payload: VoucherPayload, key: ServerSigningKey): string {
  const input = `${key.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  const signature = sign("sha256", Buffer.from(input), {
    key: key.keyObject,
    dsaEncoding: "ieee-p1363",
  });
  return `${input}.${signature.toString("base64url")}`;
}

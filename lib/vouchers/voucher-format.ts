import type { JWK } from "jose";
import { z } from "zod";

/**
 * A voucher is a compact JWS (ES256) that a counter device can check with no network.
 *
 * Header: { alg: "ES256", kid: <RFC 7638 thumbprint of the signing key>, typ: "dv1" }.
 * Payload, with one- and three-letter names because every byte grows the QR code:
 *   jti  voucher id          d    deal id          m    merchant id
 *   sub  the shopper, as a pseudonym per merchant (never the email)
 *   iat  issued at           nbf  not before       exp  expires (seconds since the epoch)
 */
export const VOUCHER_ALG = "ES256";
export const VOUCHER_TYP = "dv1";

/** Far above any real voucher (about 340 characters); anything longer is refused unread. */
export const MAX_VOUCHER_TOKEN_LENGTH = 1_024;

const id = z.string().regex(/^[0-9A-Za-z]{12}$/);
const seconds = z.number().int().nonnegative();

export const voucherPayloadSchema = z.strictObject({
  jti: id,
  d: id,
  m: id,
  sub: z.string().regex(/^[A-Za-z0-9_-]{8,43}$/),
  iat: seconds,
  nbf: seconds,
  exp: seconds,
});
export type VoucherPayload = z.infer<typeof voucherPayloadSchema>;

export interface Voucher {
  id: string;
  dealId: string;
  merchantId: string;
  subject: string;
  kid: string;
  issuedAt: Date;
  notBefore: Date;
  expiresAt: Date;
}

/** Where a shopper's voucher stands; `redeemed` once a merchant has redeemed or synced it. */
export type VoucherState = "active" | "redeemed" | "expired" | "cancelled";

/** A public signing key as published in /.well-known/jwks.json. */
export type VoucherPublicKey = JWK & { kid: string };

export function voucherFromPayload(payload: VoucherPayload, kid: string): Voucher {
  return {
    id: payload.jti,
    dealId: payload.d,
    merchantId: payload.m,
    subject: payload.sub,
    kid,
    issuedAt: new Date(payload.iat * 1_000),
    notBefore: new Date(payload.nbf * 1_000),
    expiresAt: new Date(payload.exp * 1_000),
  };
}

export function payloadOfVoucher(voucher: Omit<Voucher, "kid">): VoucherPayload {
  const toSeconds = (date: Date) => Math.floor(date.getTime() / 1_000);
  return {
    jti: voucher.id,
    d: voucher.dealId,
    m: voucher.merchantId,
    sub: voucher.subject,
    iat: toSeconds(voucher.issuedAt),
    nbf: toSeconds(voucher.notBefore),
    exp: toSeconds(voucher.expiresAt),
  };
}

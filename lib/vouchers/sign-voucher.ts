import { CompactSign } from "jose";
import { VOUCHER_ALG, VOUCHER_TYP, type VoucherPayload } from "./voucher-format";

export interface VoucherSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * Signs a voucher payload as a compact JWS. Only the server holds a private key; this lives
 * beside the verifier so that the format is defined in one place.
 */
export function signVoucher(payload: VoucherPayload, key: VoucherSigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: VOUCHER_ALG, kid: key.kid, typ: VOUCHER_TYP })
    .sign(key.privateKey);
}

import type { VoucherPayload } from "../../lib/vouchers/voucher-format";

/** A well-formed voucher payload for tests and benches (issued 2026-11-18, valid a week). */
export const SAMPLE_VOUCHER_PAYLOAD: VoucherPayload = {
  jti: "Voucher00001",
  d: "DealXXXXXXXX",
  m: "MerchantAAAA",
  sub: "pairwiseSub1",
  iat: 1_795_000_000,
  nbf: 1_795_000_000,
  exp: 1_795_604_800,
};

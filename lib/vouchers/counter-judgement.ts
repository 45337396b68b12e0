import {
  describeAge,
  type ServerClockReading,
  serverNow,
  type TrustLimits,
  trustAge,
} from "./server-clock";
import { type FirstRedemption, type VoucherRejection, verifyVoucher } from "./verify-voucher";
import type { Voucher, VoucherPublicKey } from "./voucher-format";

/** What a counter device holds from its last completed refresh. */
export interface CounterTrust extends ServerClockReading, TrustLimits {
  keys: VoucherPublicKey[];
  /** Deal id to title. */
  deals: Record<string, string>;
}

export interface CounterLookups {
  isRevoked(voucherId: string): Promise<boolean>;
  /** This device's own redemption of the voucher, else one synced from another till. */
  firstRedemption(voucherId: string): Promise<FirstRedemption | null>;
}

export type CounterJudgement =
  | { accepted: true; voucher: Voucher; dealTitle: string; judgedAt: Date }
  | {
      accepted: false;
      reason: VoucherRejection | "TRUST_STALE" | "CLOCK_SET_BACK" | "NOT_SET_UP";
      message: string;
      dealTitle: string | null;
      firstRedemption?: FirstRedemption;
    };

/**
 * The offline verdict at a counter: the shared verifier with the device's keys and lists,
 * at the server's time as the device last measured it (expiry and validity are judged by
 * Dealdrop's clock, not the till's), and only while the device's trust is fresh.
 */
export async function judgeAtCounter(
  token: string,
  context: {
    trust: CounterTrust | undefined;
    merchantId: string;
    deviceNow: number;
    lookups: CounterLookups;
  },
): Promise<CounterJudgement> {
  const { trust, deviceNow, lookups } = context;
  if (!trust) {
    return {
      accepted: false,
      reason: "NOT_SET_UP",
      message: "This device has no keys yet: connect to the internet once.",
      dealTitle: null,
    };
  }
  const age = trustAge(trust, deviceNow);
  if (!age.usable && age.why === "clock-set-back") {
    return {
      accepted: false,
      reason: "CLOCK_SET_BACK",
      message:
        "Offline checks are paused: this device's clock was set back since keys and cancellations were last updated. Connect to the internet to update them.",
      dealTitle: null,
    };
  }
  if (!age.usable) {
    return {
      accepted: false,
      reason: "TRUST_STALE",
      message: `Offline checks are paused: keys and cancellations were last updated ${describeAge(age.ageMs)} (the limit is ${Math.round(trust.maxTrustAgeMs / 3_600_000)} h). Connect to the internet to update them.`,
      dealTitle: null,
    };
  }
  const judgedAt = serverNow(trust, deviceNow);
  const verdict = await verifyVoucher(token, {
    keys: trust.keys,
    now: judgedAt,
    clockSkewSeconds: trust.clockSkewSeconds,
    merchantId: context.merchantId,
    isRevoked: lookups.isRevoked,
    isRedeemed: lookups.firstRedemption,
  });
  const dealTitle = verdict.voucher
    ? (trust.deals[verdict.voucher.dealId] ?? "A deal of this shop")
    : null;
  if (!verdict.ok) {
    const { reason, message, firstRedemption } = verdict;
    return { accepted: false, reason, message, dealTitle, firstRedemption };
  }
  return { accepted: true, voucher: verdict.voucher, dealTitle: dealTitle ?? "", judgedAt };
}

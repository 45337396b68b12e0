import { newId } from "@/lib/ids";
import { type VoucherRejection, verifyVoucher } from "@/lib/vouchers/verify-voucher";
import { tokenFromScan } from "@/lib/vouchers/voucher-qr";
import {
  type EnrolledDevice,
  findRedemption,
  findRevocation,
  readTrust,
  recordRedemption,
  type TrustBundle,
} from "./device-store";

type Judgement =
  | { accepted: true; dealTitle: string; voucherId: string; at: number }
  | {
      accepted: false;
      reason: VoucherRejection | "TRUST_STALE" | "NOT_SET_UP";
      message: string;
      dealTitle: string | null;
      firstRedeemedAt?: number;
    };

/** The answer shown at the counter; `checkedAt` tells one answer from the next. */
export type CounterVerdict = Judgement & { checkedAt: number };

/** How old the device's keys and revocation list are, and whether they may still be used. */
export function trustAge(trust: TrustBundle | undefined, now = Date.now()) {
  if (!trust) return { ageMs: Number.POSITIVE_INFINITY, usable: false };
  const ageMs = Math.max(0, now - trust.refreshedAt);
  return { ageMs, usable: ageMs <= trust.maxTrustAgeMs };
}

export function describeAge(ms: number): string {
  if (!Number.isFinite(ms)) return "never";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min ago` : `${Math.floor(hours / 24)} days ago`;
}

/**
 * Verifies a scanned or typed voucher with what the device holds, and records an accepted
 * one in IndexedDB before answering "accepted": once shown, it is never forgotten.
 */
export async function verifyAtCounter(
  text: string,
  device: EnrolledDevice,
): Promise<CounterVerdict> {
  return { ...(await judge(text, device)), checkedAt: Date.now() };
}

async function judge(text: string, device: EnrolledDevice): Promise<Judgement> {
  const trust = await readTrust();
  if (!trust) {
    return {
      accepted: false,
      reason: "NOT_SET_UP",
      message: "This device has no keys yet: connect to the internet once.",
      dealTitle: null,
    };
  }
  const age = trustAge(trust);
  if (!age.usable) {
    return {
      accepted: false,
      reason: "TRUST_STALE",
      message: `Offline checks are paused: keys and cancellations were last updated ${describeAge(age.ageMs)} (the limit is ${Math.round(trust.maxTrustAgeMs / 3_600_000)} h). Connect to the internet to update them.`,
      dealTitle: null,
    };
  }
  const now = Date.now();
  const verdict = await verifyVoucher(tokenFromScan(text), {
    keys: trust.keys,
    now: new Date(now),
    clockSkewSeconds: trust.clockSkewSeconds,
    merchantId: device.merchantId,
    isRevoked: async (id) => (await findRevocation(id)) !== undefined,
    isRedeemed: async (id) => {
      const earlier = await findRedemption(id);
      return earlier ? { redeemedAt: new Date(earlier.redeemedAt), where: "on this device" } : null;
    },
  });
  const dealTitle = verdict.voucher
    ? (trust.deals[verdict.voucher.dealId] ?? "A deal of this shop")
    : null;
  if (!verdict.ok) {
    return {
      accepted: false,
      reason: verdict.reason,
      message: verdict.message,
      dealTitle,
      firstRedeemedAt: verdict.firstRedemption?.redeemedAt.getTime(),
    };
  }
  const earlier = await recordRedemption({
    voucherId: verdict.voucher.id,
    localId: newId(),
    token: tokenFromScan(text),
    dealId: verdict.voucher.dealId,
    dealTitle: dealTitle ?? "",
    redeemedAt: now,
    syncState: "pending",
  });
  if (earlier) {
    return {
      accepted: false,
      reason: "ALREADY_REDEEMED",
      message: "This voucher was already redeemed.",
      dealTitle,
      firstRedeemedAt: earlier.redeemedAt,
    };
  }
  return { accepted: true, dealTitle: dealTitle ?? "", voucherId: verdict.voucher.id, at: now };
}

import { newId } from "@/lib/ids";
import { type CounterJudgement, judgeAtCounter } from "@/lib/vouchers/counter-judgement";
import { tokenFromScan } from "@/lib/vouchers/voucher-qr";
import {
  type EnrolledDevice,
  findRedeemedElsewhere,
  findRedemption,
  findRevocation,
  readTrust,
  recordRedemption,
} from "./device-store";

type Judgement =
  | { accepted: true; dealTitle: string; voucherId: string; at: number }
  | (Extract<CounterJudgement, { accepted: false }> & {
      firstRedeemedAt?: number;
      firstRedeemedWhere?: string;
    });

/** The answer shown at the counter; `checkedAt` tells one answer from the next. */
export type CounterVerdict = Judgement & { checkedAt: number };

/**
 * Verifies a scanned or typed voucher with what the device holds, and records an accepted
 * one in IndexedDB before answering "accepted": once shown, it is never forgotten. The
 * redemption's time is the server's, as the device last measured its clock.
 */
export async function verifyAtCounter(
  text: string,
  device: EnrolledDevice,
): Promise<CounterVerdict> {
  return { ...(await judge(text, device)), checkedAt: Date.now() };
}

async function judge(text: string, device: EnrolledDevice): Promise<Judgement> {
  const token = tokenFromScan(text);
  const verdict = await judgeAtCounter(token, {
    trust: await readTrust(),
    merchantId: device.merchantId,
    deviceNow: Date.now(),
    lookups: {
      isRevoked: async (id) => (await findRevocation(id)) !== undefined,
      firstRedemption: async (id) => {
        const own = await findRedemption(id);
        if (own) return { redeemedAt: new Date(own.redeemedAt), where: "on this device" };
        const elsewhere = await findRedeemedElsewhere(id);
        return elsewhere
          ? { redeemedAt: new Date(elsewhere.redeemedAt), where: elsewhere.where }
          : null;
      },
    },
  });
  if (!verdict.accepted) {
    return {
      ...verdict,
      firstRedeemedAt: verdict.firstRedemption?.redeemedAt.getTime(),
      firstRedeemedWhere: verdict.firstRedemption?.where,
    };
  }
  const at = verdict.judgedAt.getTime();
  const earlier = await recordRedemption({
    voucherId: verdict.voucher.id,
    localId: newId(),
    token,
    dealId: verdict.voucher.dealId,
    dealTitle: verdict.dealTitle,
    redeemedAt: at,
    syncState: "pending",
  });
  if (earlier) {
    return {
      accepted: false,
      reason: "ALREADY_REDEEMED",
      message: "This voucher was already redeemed.",
      dealTitle: verdict.dealTitle,
      firstRedeemedAt: earlier.redeemedAt,
      firstRedeemedWhere: "on this device",
    };
  }
  return { accepted: true, dealTitle: verdict.dealTitle, voucherId: verdict.voucher.id, at };
}

import "server-only";
import { eq, sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import { deals, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import {
  type FirstRedemption,
  type VoucherRejection,
  verifyVoucher,
} from "@/lib/vouchers/verify-voucher";
import type { Voucher } from "@/lib/vouchers/voucher-format";
import { findFirstRedemption } from "./first-redemption";
import type { SigningKeyStore } from "./signing-keys";

export type RedeemResult =
  | { accepted: true; voucher: Voucher; dealTitle: string; redeemedAt: Date }
  | {
      accepted: false;
      reason: VoucherRejection;
      message: string;
      dealTitle: string | null;
      firstRedemption?: FirstRedemption;
    };

export interface RedeemRequest {
  merchantId: string;
  token: string;
  /** The signed-in staff member redeeming online. */
  staffUserId: string;
  deviceId?: string | null;
}

/**
 * Online redemption at the counter: the same verifier the devices run offline, with the
 * database as the revocation list and the record of redemptions. The unique voucher id in
 * `redemptions` makes the first redemption win, however many arrive at once.
 */
export class RedemptionService {
  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeyStore,
    private readonly clockSkewSeconds: number,
    private readonly clock: () => Date,
    /** Told of each answer, for metrics. */
    private readonly onRedeemed: (result: RedeemResult) => void = () => undefined,
  ) {}

  async redeem(request: RedeemRequest): Promise<RedeemResult> {
    const result = await this.decide(request);
    this.onRedeemed(result);
    return result;
  }

  private async decide(request: RedeemRequest): Promise<RedeemResult> {
    const now = this.clock();
    const verdict = await verifyVoucher(request.token, {
      keys: await this.keys.publishedKeys(),
      now,
      clockSkewSeconds: this.clockSkewSeconds,
      merchantId: request.merchantId,
      // A signed voucher with no record here (a restored backup, say) is not honoured.
      isRevoked: async (id) => {
        const [row] = await this.db
          .select({ revokedAt: vouchers.revokedAt })
          .from(vouchers)
          .where(eq(vouchers.id, id));
        return !row || row.revokedAt !== null;
      },
      isRedeemed: (id) => this.firstRedemption(id),
    });
    const dealTitle = verdict.voucher ? await this.dealTitle(verdict.voucher.dealId) : null;
    if (!verdict.ok) {
      const { reason, message, firstRedemption } = verdict;
      return { accepted: false, reason, message, dealTitle, firstRedemption };
    }

    // The row lock (FOR SHARE) waits out a cancellation in flight and then re-reads
    // revoked_at, so a voucher cannot be both cancelled and redeemed online.
    const inserted = await this.db.execute(sql`
      INSERT INTO redemptions (id, voucher_id, merchant_id, device_id, redeemed_by, redeemed_at, received_at)
      SELECT ${newId()}, v.id, v.merchant_id, ${request.deviceId ?? null}, ${request.staffUserId},
             ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
      FROM vouchers v WHERE v.id = ${verdict.voucher.id} AND v.revoked_at IS NULL
      FOR SHARE
      ON CONFLICT (voucher_id) DO NOTHING
      RETURNING id`);
    if (rowsOf(inserted).length === 1) {
      return {
        accepted: true,
        voucher: verdict.voucher,
        dealTitle: dealTitle ?? "",
        redeemedAt: now,
      };
    }
    const first = await this.firstRedemption(verdict.voucher.id);
    return first
      ? {
          accepted: false,
          reason: "ALREADY_REDEEMED",
          message: "This voucher was already redeemed.",
          dealTitle,
          firstRedemption: first,
        }
      : { accepted: false, reason: "REVOKED", message: "This voucher was cancelled.", dealTitle };
  }

  private async firstRedemption(voucherId: string): Promise<FirstRedemption | null> {
    const first = await findFirstRedemption(this.db, voucherId);
    return first && { redeemedAt: first.redeemedAt, where: first.where };
  }

  private async dealTitle(dealId: string): Promise<string | null> {
    const [row] = await this.db
      .select({ title: deals.title })
      .from(deals)
      .where(eq(deals.id, dealId));
    return row?.title ?? null;
  }
}

import "server-only";
import { and, desc, eq, isNotNull, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Db, rowsOf } from "@/db/client";
import {
  deals,
  merchantDevices,
  type redemptionClockFlag,
  redemptionConflicts,
  redemptions,
  users,
  vouchers,
} from "@/db/schema";
import { newId } from "@/lib/ids";
import { timestampSchema } from "@/lib/storable-input";
import {
  type VerifyVoucherOptions,
  type VerifyVoucherResult,
  type VoucherRejection,
  verifyVoucher,
} from "@/lib/vouchers/verify-voucher";
import type { AuthenticatedDevice } from "../devices/device-service";
import { findFirstRedemption } from "./first-redemption";
import type { SigningKeyStore } from "./signing-keys";

export const syncRedemptionsInput = z.object({
  redemptions: z
    .array(
      z.object({
        /** The device's own id for the entry, echoed back so it can mark it synced. */
        localId: z.string().min(1).max(64),
        token: z.string().max(16_384),
        redeemedAt: timestampSchema("redeemedAt"),
      }),
    )
    .max(200, "send at most 200 redemptions per batch"),
});
export type SyncRedemptionsInput = z.infer<typeof syncRedemptionsInput>;

/** Why a synced redemption's time cannot be true (see `redemptionClockFlag` in the schema). */
export type ClockFlag = (typeof redemptionClockFlag.enumValues)[number];

export type SyncOutcome =
  | { localId: string; status: "recorded"; voucherId: string; clockFlag?: ClockFlag }
  | {
      localId: string;
      status: "conflict";
      voucherId: string;
      first: { redeemedAt: Date; where: string };
      clockFlag?: ClockFlag;
    }
  | { localId: string; status: "rejected"; reason: VoucherRejection | "NOT_ON_RECORD" };

type Entry = SyncRedemptionsInput["redemptions"][number];

/**
 * Takes a device's offline redemptions. The first redemption of a voucher to reach the server
 * is the one recorded; a later one from another device is kept as a conflict and answered
 * with the first (which device, when), so staff see it: nothing is overwritten. A batch sent
 * twice records nothing twice, which makes retries after a lost answer safe. A redemption
 * whose time cannot be true is recorded all the same (the device handed the deal over), with
 * a flag that the devices and conflicts pages show.
 */
export class RedemptionSync {
  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeyStore,
    private readonly clockSkewSeconds: number,
    private readonly clock: () => Date,
    /** Told of each entry's outcome, for metrics. */
    private readonly onSynced: (outcome: SyncOutcome) => void = () => undefined,
  ) {}

  async sync(device: AuthenticatedDevice, input: SyncRedemptionsInput): Promise<SyncOutcome[]> {
    const keys = await this.keys.publishedKeys();
    const receivedAt = this.clock();
    const outcomes: SyncOutcome[] = [];
    for (const entry of input.redemptions) {
      const { verdict, clockFlag } = await this.judge(entry, {
        keys,
        clockSkewSeconds: this.clockSkewSeconds,
        merchantId: device.merchantId,
        receivedAt,
      });
      const outcome: SyncOutcome = verdict.ok
        ? await this.record(device, entry, verdict.voucher.id, clockFlag, receivedAt)
        : { localId: entry.localId, status: "rejected", reason: verdict.reason };
      this.onSynced(outcome);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /**
   * Judged as at the moment of redemption: a voucher that has expired since was valid then.
   * The moment is the device's word, so it is believed only where it can be true: not after
   * the server received it, not before the voucher was issued (each beyond the skew). Outside
   * that, the voucher is judged at the nearest moment that can be true, and flagged.
   */
  private async judge(
    entry: Entry,
    options: Omit<VerifyVoucherOptions, "now"> & { receivedAt: Date },
  ): Promise<{ verdict: VerifyVoucherResult; clockFlag: ClockFlag | null }> {
    const skewMs = this.clockSkewSeconds * 1_000;
    const claimed = entry.redeemedAt.getTime();
    if (claimed > options.receivedAt.getTime() + skewMs) {
      const verdict = await verifyVoucher(entry.token, { ...options, now: options.receivedAt });
      return { verdict, clockFlag: "after_receipt" };
    }
    const verdict = await verifyVoucher(entry.token, { ...options, now: entry.redeemedAt });
    const voucher = verdict.voucher;
    if (voucher && claimed < voucher.issuedAt.getTime() - skewMs) {
      const earliest = Math.max(voucher.issuedAt.getTime(), voucher.notBefore.getTime());
      return {
        verdict: await verifyVoucher(entry.token, { ...options, now: new Date(earliest) }),
        clockFlag: "before_issue",
      };
    }
    return { verdict, clockFlag: null };
  }

  private async record(
    device: AuthenticatedDevice,
    entry: Entry,
    voucherId: string,
    clockFlag: ClockFlag | null,
    receivedAt: Date,
  ): Promise<SyncOutcome> {
    const now = receivedAt.toISOString();
    const flagged = clockFlag ? { clockFlag } : {};
    const inserted = await this.db.execute(sql`
      INSERT INTO redemptions (id, voucher_id, merchant_id, device_id, redeemed_at, received_at, clock_flag)
      SELECT ${newId()}, v.id, v.merchant_id, ${device.deviceId},
             ${entry.redeemedAt.toISOString()}::timestamptz, ${now}::timestamptz,
             ${clockFlag}::redemption_clock_flag
      FROM vouchers v WHERE v.id = ${voucherId}
      ON CONFLICT (voucher_id) DO NOTHING
      RETURNING id`);
    if (rowsOf(inserted).length === 1) {
      return { localId: entry.localId, status: "recorded", voucherId, ...flagged };
    }
    const first = await findFirstRedemption(this.db, voucherId);
    if (!first) return { localId: entry.localId, status: "rejected", reason: "NOT_ON_RECORD" };
    if (first.deviceId === device.deviceId) {
      // A batch sent again: answered as the first time, flag included.
      const { clockFlag: recorded } = first;
      return {
        localId: entry.localId,
        status: "recorded",
        voucherId,
        ...(recorded ? { clockFlag: recorded } : {}),
      };
    }
    await this.db
      .insert(redemptionConflicts)
      .values({
        id: newId(),
        voucherId,
        firstRedemptionId: first.id,
        deviceId: device.deviceId,
        redeemedAt: entry.redeemedAt,
        receivedAt,
        clockFlag,
      })
      .onConflictDoNothing();
    return {
      localId: entry.localId,
      status: "conflict",
      voucherId,
      first: { redeemedAt: first.redeemedAt, where: first.where },
      ...flagged,
    };
  }

  /**
   * Recent redemptions and conflicts of a merchant (or of all, for admins), newest first, and
   * the redemptions whose device-given time cannot be true.
   */
  async history(merchantId: string | null, limit = 200) {
    const ofMerchant = merchantId ? eq(redemptions.merchantId, merchantId) : undefined;
    const firstDevice = alias(merchantDevices, "first_device");
    const recent = await this.redemptionsWhere(ofMerchant, limit);
    const flagged = await this.redemptionsWhere(
      and(ofMerchant, isNotNull(redemptions.clockFlag)),
      limit,
    );
    const conflicts = await this.db
      .select({
        voucherId: redemptionConflicts.voucherId,
        dealTitle: deals.title,
        deviceName: merchantDevices.name,
        redeemedAt: redemptionConflicts.redeemedAt,
        receivedAt: redemptionConflicts.receivedAt,
        clockFlag: redemptionConflicts.clockFlag,
        firstDeviceName: firstDevice.name,
        firstRedeemedAt: redemptions.redeemedAt,
      })
      .from(redemptionConflicts)
      .innerJoin(redemptions, eq(redemptions.id, redemptionConflicts.firstRedemptionId))
      .innerJoin(vouchers, eq(vouchers.id, redemptionConflicts.voucherId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .leftJoin(merchantDevices, eq(merchantDevices.id, redemptionConflicts.deviceId))
      .leftJoin(firstDevice, eq(firstDevice.id, redemptions.deviceId))
      .where(ofMerchant)
      .orderBy(desc(redemptionConflicts.receivedAt))
      .limit(limit);
    return { redemptions: recent, conflicts, flagged };
  }

  private redemptionsWhere(condition: SQL | undefined, limit: number) {
    return this.db
      .select({
        voucherId: redemptions.voucherId,
        redeemedAt: redemptions.redeemedAt,
        receivedAt: redemptions.receivedAt,
        clockFlag: redemptions.clockFlag,
        deviceName: merchantDevices.name,
        staffName: users.displayName,
        dealTitle: deals.title,
      })
      .from(redemptions)
      .innerJoin(vouchers, eq(vouchers.id, redemptions.voucherId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .leftJoin(merchantDevices, eq(merchantDevices.id, redemptions.deviceId))
      .leftJoin(users, eq(users.id, redemptions.redeemedBy))
      .where(condition)
      .orderBy(desc(redemptions.receivedAt))
      .limit(limit);
  }
}

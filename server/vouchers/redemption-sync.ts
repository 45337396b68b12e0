import "server-only";
import { and, desc, eq, isNotNull, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Db, rowsOf } from "@/db/client";
import {
  deals,
  merchantDevices,
  type redemptionClockFlag,
  type redemptionConflictKind,
  redemptionConflicts,
  redemptions,
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
import { findFirstRedemption, redemptionsWithWho } from "./first-redemption";
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

/** Why a synced redemption does not count (see `redemptionConflictKind` in the schema). */
export type ConflictKind = (typeof redemptionConflictKind.enumValues)[number];

export type SyncOutcome =
  | { localId: string; status: "recorded"; voucherId: string; clockFlag?: ClockFlag }
  | {
      localId: string;
      status: "conflict";
      kind: "redeemed_twice";
      voucherId: string;
      first: { redeemedAt: Date; where: string };
      clockFlag?: ClockFlag;
    }
  | {
      localId: string;
      status: "conflict";
      kind: "redeemed_after_cancellation";
      voucherId: string;
      /** When the voucher was cancelled, by the server's clock. */
      cancelledAt: Date;
      clockFlag?: ClockFlag;
    }
  | { localId: string; status: "rejected"; reason: VoucherRejection | "NOT_ON_RECORD" };

type Entry = SyncRedemptionsInput["redemptions"][number];

/**
 * Takes a device's offline redemptions. The first redemption of a voucher to reach the server
 * is the one recorded; a later one from another device is kept as a conflict and answered
 * with the first (which device, when), so staff see it: nothing is overwritten. A redemption
 * of a voucher cancelled before it reached the server is a conflict of its own kind (its unit
 * went back on sale, its payment was refunded). A batch sent twice records nothing twice,
 * which makes retries after a lost answer safe. A redemption whose time cannot be true is kept
 * all the same (the device handed the deal over), with a flag that the devices and conflicts
 * pages show.
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

  /**
   * Which of the three a redemption is (recorded, redeemed twice, redeemed after cancellation)
   * is decided by the server's own order of events, never by the device's `redeemedAt`: the
   * insert reads the voucher row under a share lock, so it waits out a cancellation in flight
   * and then sees it (and a cancellation waits out the insert and then refuses, as the voucher
   * is redeemed). A device time before the cancellation proves nothing: a backdating device
   * sends one, and a true one is the fraud itself (show the voucher offline, cancel it online).
   * Both times are kept for people to read: the cancellation's by the server's clock, the
   * redemption's as the device gave it, flagged when it cannot be true (see `judge`).
   */
  private async record(
    device: AuthenticatedDevice,
    entry: Entry,
    voucherId: string,
    clockFlag: ClockFlag | null,
    receivedAt: Date,
  ): Promise<SyncOutcome> {
    const now = receivedAt.toISOString();
    const inserted = await this.db.execute(sql`
      INSERT INTO redemptions (id, voucher_id, merchant_id, device_id, redeemed_at, received_at, clock_flag)
      SELECT ${newId()}, v.id, v.merchant_id, ${device.deviceId},
             ${entry.redeemedAt.toISOString()}::timestamptz, ${now}::timestamptz,
             ${clockFlag}::redemption_clock_flag
      FROM vouchers v WHERE v.id = ${voucherId} AND v.revoked_at IS NULL
      FOR SHARE
      ON CONFLICT (voucher_id) DO NOTHING
      RETURNING id`);
    const answered = { localId: entry.localId, voucherId };
    if (rowsOf(inserted).length === 1) {
      return { ...answered, status: "recorded", ...(clockFlag ? { clockFlag } : {}) };
    }
    const first = await findFirstRedemption(this.db, voucherId);
    if (first?.deviceId === device.deviceId) {
      // A batch sent again: answered as the first time, flag included.
      return { ...answered, status: "recorded", ...flagOf(first.clockFlag) };
    }
    const conflict = {
      voucherId,
      deviceId: device.deviceId,
      redeemedAt: entry.redeemedAt,
      receivedAt,
      clockFlag,
    };
    if (first) {
      const kept = await this.keepConflict({
        ...conflict,
        kind: "redeemed_twice",
        firstRedemptionId: first.id,
      });
      return {
        ...answered,
        status: "conflict",
        kind: "redeemed_twice",
        first: { redeemedAt: first.redeemedAt, where: first.where },
        ...flagOf(kept),
      };
    }
    const [voucher] = await this.db
      .select({ revokedAt: vouchers.revokedAt })
      .from(vouchers)
      .where(eq(vouchers.id, voucherId));
    if (!voucher?.revokedAt) {
      return { localId: entry.localId, status: "rejected", reason: "NOT_ON_RECORD" };
    }
    const kept = await this.keepConflict({
      ...conflict,
      kind: "redeemed_after_cancellation",
      firstRedemptionId: null,
    });
    return {
      ...answered,
      status: "conflict",
      kind: "redeemed_after_cancellation",
      cancelledAt: voucher.revokedAt,
      ...flagOf(kept),
    };
  }

  /** Keeps a conflict once per device and voucher; a re-sent one gets its first flag back. */
  private async keepConflict(
    conflict: Omit<typeof redemptionConflicts.$inferInsert, "id">,
  ): Promise<ClockFlag | null> {
    const [inserted] = await this.db
      .insert(redemptionConflicts)
      .values({ id: newId(), ...conflict })
      .onConflictDoNothing()
      .returning({ clockFlag: redemptionConflicts.clockFlag });
    if (inserted) return inserted.clockFlag;
    const [kept] = await this.db
      .select({ clockFlag: redemptionConflicts.clockFlag })
      .from(redemptionConflicts)
      .where(
        and(
          eq(redemptionConflicts.voucherId, conflict.voucherId),
          eq(redemptionConflicts.deviceId, conflict.deviceId ?? ""),
        ),
      );
    return kept?.clockFlag ?? null;
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
        kind: redemptionConflicts.kind,
        dealTitle: deals.title,
        deviceName: merchantDevices.name,
        redeemedAt: redemptionConflicts.redeemedAt,
        receivedAt: redemptionConflicts.receivedAt,
        clockFlag: redemptionConflicts.clockFlag,
        firstDeviceName: firstDevice.name,
        firstRedeemedAt: redemptions.redeemedAt,
        revokedAt: vouchers.revokedAt,
      })
      .from(redemptionConflicts)
      .leftJoin(redemptions, eq(redemptions.id, redemptionConflicts.firstRedemptionId))
      .innerJoin(vouchers, eq(vouchers.id, redemptionConflicts.voucherId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .leftJoin(merchantDevices, eq(merchantDevices.id, redemptionConflicts.deviceId))
      .leftJoin(firstDevice, eq(firstDevice.id, redemptions.deviceId))
      .where(merchantId ? eq(vouchers.merchantId, merchantId) : undefined)
      .orderBy(desc(redemptionConflicts.receivedAt))
      .limit(limit);
    return { redemptions: recent, conflicts, flagged };
  }

  private redemptionsWhere(condition: SQL | undefined, limit: number) {
    return redemptionsWithWho(this.db, {
      voucherId: redemptions.voucherId,
      redeemedAt: redemptions.redeemedAt,
      receivedAt: redemptions.receivedAt,
      clockFlag: redemptions.clockFlag,
      dealTitle: deals.title,
    })
      .innerJoin(vouchers, eq(vouchers.id, redemptions.voucherId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .where(condition)
      .orderBy(desc(redemptions.receivedAt))
      .limit(limit);
  }
}

const flagOf = (clockFlag: ClockFlag | null) => (clockFlag ? { clockFlag } : {});

import "server-only";
import { desc, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Db, rowsOf } from "@/db/client";
import {
  deals,
  merchantDevices,
  redemptionConflicts,
  redemptions,
  users,
  vouchers,
} from "@/db/schema";
import { newId } from "@/lib/ids";
import { timestampSchema } from "@/lib/storable-input";
import { type VoucherRejection, verifyVoucher } from "@/lib/vouchers/verify-voucher";
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

export type SyncOutcome =
  | { localId: string; status: "recorded"; voucherId: string }
  | {
      localId: string;
      status: "conflict";
      voucherId: string;
      first: { redeemedAt: Date; where: string };
    }
  | { localId: string; status: "rejected"; reason: VoucherRejection | "NOT_ON_RECORD" };

/**
 * Takes a device's offline redemptions. The first redemption of a voucher to reach the server
 * is the one recorded; a later one from another device is kept as a conflict and answered
 * with the first (which device, when), so staff see it: nothing is overwritten. A batch sent
 * twice records nothing twice, which makes retries after a lost answer safe.
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
    const outcomes: SyncOutcome[] = [];
    for (const entry of input.redemptions) {
      // Judged as at the moment of redemption: a voucher that has expired since was valid then.
      const verdict = await verifyVoucher(entry.token, {
        keys,
        now: entry.redeemedAt,
        clockSkewSeconds: this.clockSkewSeconds,
        merchantId: device.merchantId,
      });
      const outcome: SyncOutcome = verdict.ok
        ? await this.record(device, entry, verdict.voucher.id)
        : { localId: entry.localId, status: "rejected", reason: verdict.reason };
      this.onSynced(outcome);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  private async record(
    device: AuthenticatedDevice,
    entry: SyncRedemptionsInput["redemptions"][number],
    voucherId: string,
  ): Promise<SyncOutcome> {
    const now = this.clock().toISOString();
    const inserted = await this.db.execute(sql`
      INSERT INTO redemptions (id, voucher_id, merchant_id, device_id, redeemed_at, received_at)
      SELECT ${newId()}, v.id, v.merchant_id, ${device.deviceId},
             ${entry.redeemedAt.toISOString()}::timestamptz, ${now}::timestamptz
      FROM vouchers v WHERE v.id = ${voucherId}
      ON CONFLICT (voucher_id) DO NOTHING
      RETURNING id`);
    if (rowsOf(inserted).length === 1) {
      return { localId: entry.localId, status: "recorded", voucherId };
    }
    const first = await findFirstRedemption(this.db, voucherId);
    if (!first) return { localId: entry.localId, status: "rejected", reason: "NOT_ON_RECORD" };
    if (first.deviceId === device.deviceId) {
      return { localId: entry.localId, status: "recorded", voucherId };
    }
    await this.db
      .insert(redemptionConflicts)
      .values({
        id: newId(),
        voucherId,
        firstRedemptionId: first.id,
        deviceId: device.deviceId,
        redeemedAt: entry.redeemedAt,
        receivedAt: new Date(now),
      })
      .onConflictDoNothing();
    return {
      localId: entry.localId,
      status: "conflict",
      voucherId,
      first: { redeemedAt: first.redeemedAt, where: first.where },
    };
  }

  /** Recent redemptions and conflicts of a merchant (or of all, for admins), newest first. */
  async history(merchantId: string | null, limit = 200) {
    const firstDevice = alias(merchantDevices, "first_device");
    const recent = await this.db
      .select({
        voucherId: redemptions.voucherId,
        redeemedAt: redemptions.redeemedAt,
        receivedAt: redemptions.receivedAt,
        deviceName: merchantDevices.name,
        staffName: users.displayName,
        dealTitle: deals.title,
      })
      .from(redemptions)
      .innerJoin(vouchers, eq(vouchers.id, redemptions.voucherId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .leftJoin(merchantDevices, eq(merchantDevices.id, redemptions.deviceId))
      .leftJoin(users, eq(users.id, redemptions.redeemedBy))
      .where(merchantId ? eq(redemptions.merchantId, merchantId) : undefined)
      .orderBy(desc(redemptions.receivedAt))
      .limit(limit);
    const conflicts = await this.db
      .select({
        voucherId: redemptionConflicts.voucherId,
        dealTitle: deals.title,
        deviceName: merchantDevices.name,
        redeemedAt: redemptionConflicts.redeemedAt,
        receivedAt: redemptionConflicts.receivedAt,
        firstDeviceName: firstDevice.name,
        firstRedeemedAt: redemptions.redeemedAt,
      })
      .from(redemptionConflicts)
      .innerJoin(redemptions, eq(redemptions.id, redemptionConflicts.firstRedemptionId))
      .innerJoin(vouchers, eq(vouchers.id, redemptionConflicts.voucherId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .leftJoin(merchantDevices, eq(merchantDevices.id, redemptionConflicts.deviceId))
      .leftJoin(firstDevice, eq(firstDevice.id, redemptions.deviceId))
      .where(merchantId ? eq(redemptions.merchantId, merchantId) : undefined)
      .orderBy(desc(redemptionConflicts.receivedAt))
      .limit(limit);
    return { redemptions: recent, conflicts };
  }
}

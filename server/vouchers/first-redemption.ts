import "server-only";
import { eq } from "drizzle-orm";
import type { SelectedFields } from "drizzle-orm/pg-core";
import type { Db } from "@/db/client";
import { merchantDevices, redemptions, users } from "@/db/schema";

/**
 * The redemption a voucher's later ones are measured against: when, and where in words
 * (the device's name, or the staff member who redeemed it online).
 */
export async function findFirstRedemption(db: Db, voucherId: string) {
  const [row] = await redemptionsWithWho(db, {
    id: redemptions.id,
    deviceId: redemptions.deviceId,
    redeemedAt: redemptions.redeemedAt,
    clockFlag: redemptions.clockFlag,
  }).where(eq(redemptions.voucherId, voucherId));
  if (!row) return null;
  const where = describeWhere(row.deviceName, row.staffName);
  const { id, deviceId, redeemedAt, clockFlag } = row;
  return { id, deviceId, redeemedAt, where, clockFlag };
}

/**
 * Redemptions with who made them, `columns` beside: `deviceName` (null for one made online)
 * and `staffName` (null for a device's own), for describeWhere.
 */
export function redemptionsWithWho<T extends SelectedFields>(db: Db, columns: T) {
  return db
    .select({ ...columns, deviceName: merchantDevices.name, staffName: users.displayName })
    .from(redemptions)
    .leftJoin(merchantDevices, eq(merchantDevices.id, redemptions.deviceId))
    .leftJoin(users, eq(users.id, redemptions.redeemedBy));
}

/** Where a redemption happened, in words a counter can show. */
export function describeWhere(deviceName: string | null, staffName: string | null): string {
  return deviceName ? `on device "${deviceName}"` : `online by ${staffName ?? "staff"}`;
}

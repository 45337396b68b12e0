import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { merchantDevices, redemptions, users } from "@/db/schema";

/**
 * The redemption a voucher's later ones are measured against: when, and where in words
 * (the device's name, or the staff member who redeemed it online).
 */
export async function findFirstRedemption(db: Db, voucherId: string) {
  const [row] = await db
    .select({
      id: redemptions.id,
      deviceId: redemptions.deviceId,
      redeemedAt: redemptions.redeemedAt,
      deviceName: merchantDevices.name,
      staffName: users.displayName,
      clockFlag: redemptions.clockFlag,
    })
    .from(redemptions)
    .leftJoin(merchantDevices, eq(merchantDevices.id, redemptions.deviceId))
    .leftJoin(users, eq(users.id, redemptions.redeemedBy))
    .where(eq(redemptions.voucherId, voucherId));
  if (!row) return null;
  const where = describeWhere(row.deviceName, row.staffName);
  const { id, deviceId, redeemedAt, clockFlag } = row;
  return { id, deviceId, redeemedAt, where, clockFlag };
}

/** Where a redemption happened, in words a counter can show. */
export function describeWhere(deviceName: string | null, staffName: string | null): string {
  return deviceName ? `on device "${deviceName}"` : `online by ${staffName ?? "staff"}`;
}

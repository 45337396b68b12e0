import { and, eq, inArray, sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, deals, merchants, users } from "@/db/schema";
import { newId } from "@/lib/ids";

const MINUTE = 60_000;

export async function createMerchant(db: Db) {
  const merchant = {
    id: newId(),
    name: "Test Bakery",
    address: "Main St 1",
    lat: 52.37,
    lng: 4.89,
  };
  await db.insert(merchants).values(merchant);
  return merchant;
}

/** Shoppers inserted directly (no password hashing: these never sign in). */
export async function createShoppers(db: Db, howMany: number): Promise<string[]> {
  const ids = Array.from({ length: howMany }, () => newId());
  for (let start = 0; start < ids.length; start += 1_000) {
    await db.insert(users).values(
      ids.slice(start, start + 1_000).map((id) => ({
        id,
        email: `${id.toLowerCase()}@shopper.test`,
        displayName: `Shopper ${id}`,
        passwordHash: "not-a-sign-in-account",
        role: "shopper" as const,
      })),
    );
  }
  return ids;
}

export async function createDeal(
  db: Db,
  merchantId: string,
  options: {
    quantity: number;
    now: Date;
    priceCents?: number;
    startsInMinutes?: number;
    geofenceRadiusM?: number;
  },
) {
  const start = options.now.getTime() + (options.startsInMinutes ?? -1) * MINUTE;
  const deal = {
    id: newId(),
    merchantId,
    title: "Test deal",
    quantity: options.quantity,
    priceCents: options.priceCents ?? 0,
    startsAt: new Date(start),
    endsAt: new Date(start + 60 * MINUTE),
    voucherValidUntil: new Date(start + 7 * 24 * 60 * MINUTE),
    lat: 52.37,
    lng: 4.89,
    geofenceRadiusM: options.geofenceRadiusM ?? null,
  };
  await db.insert(deals).values(deal);
  return deal;
}

/**
 * Postgres's view of a deal: active claims, the `sold` counter, and any user holding two.
 * One statement, so one snapshot: read while winners are still being written, the claims and
 * the counter still agree (each winner's row and its count are written together).
 */
export async function claimTruth(db: Db, dealId: string) {
  const active = and(eq(claims.dealId, dealId), inArray(claims.status, [...ACTIVE_CLAIM_STATUSES]));
  const [row] = rowsOf<{
    active: number;
    usersWithTwo: number;
    sold: number | null;
    quantity: number | null;
  }>(
    await db.execute(sql`
      SELECT (SELECT count(*)::int FROM ${claims} WHERE ${active}) AS active,
             (SELECT count(*)::int FROM (SELECT 1 FROM ${claims} WHERE ${active}
                GROUP BY ${claims.userId} HAVING count(*) > 1) AS twice) AS "usersWithTwo",
             (SELECT ${deals.sold} FROM ${deals} WHERE ${deals.id} = ${dealId}) AS sold,
             (SELECT ${deals.quantity} FROM ${deals} WHERE ${deals.id} = ${dealId}) AS quantity`),
  );
  return {
    activeClaims: row?.active ?? 0,
    soldCounter: row?.sold ?? -1,
    quantity: row?.quantity ?? -1,
    usersWithTwoClaims: row?.usersWithTwo ?? 0,
  };
}

/** A merchant staff account (it never signs in; redemptions name it). */
export async function createStaff(db: Db, merchantId: string, displayName = "Sam at the till") {
  const id = newId();
  await db.insert(users).values({
    id,
    email: `${id.toLowerCase()}@staff.test`,
    displayName,
    passwordHash: "not-a-sign-in-account",
    role: "merchant",
    merchantId,
  });
  return id;
}

/** A new merchant and one of its staff, as the actor of management calls. */
export async function createShopWithStaff(db: Db, displayName = "Sam at the till") {
  const merchant = await createMerchant(db);
  const staff = {
    userId: await createStaff(db, merchant.id, displayName),
    role: "merchant" as const,
    merchantId: merchant.id,
    displayName,
  };
  return { merchant, staff };
}

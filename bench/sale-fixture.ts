import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";

export interface SaleDeals {
  dealId: string;
  /** A separate deal for the warm-up claim, so that warming costs the measured deal nothing. */
  warmupDealId: string;
}

export interface SeededSale {
  userIds: string[];
  warmupUserId: string;
  deals: Record<string, SaleDeals>;
}

/** One merchant, the crowd, and a fresh deal (plus a warm-up deal) for every design. */
export async function seedSale(
  db: Db,
  options: { users: number; units: number; designs: string[] },
): Promise<SeededSale> {
  const merchant = await createMerchant(db);
  const everyone = await createShoppers(db, options.users + 1);
  const warmupUserId = everyone.pop() ?? "";
  const now = new Date();
  const deals: Record<string, SaleDeals> = {};
  for (const design of options.designs) {
    const measured = await createDeal(db, merchant.id, { quantity: options.units, now });
    const warmup = await createDeal(db, merchant.id, { quantity: 1, now });
    deals[design] = { dealId: measured.id, warmupDealId: warmup.id };
  }
  return { userIds: everyone, warmupUserId, deals };
}

export interface SaleAudit {
  /** Active (reserved or confirmed) claims: the units actually sold. */
  sold: number;
  oversold: number;
  /** Users holding more than one active claim on the deal. */
  duplicateClaims: number;
  /** The deal's own `sold` counter, which must agree with the claims. */
  counter: number;
}

/** Reads the truth of a sale from Postgres, whatever the engine claimed it did. */
export async function auditSale(db: Db, dealId: string, units: number): Promise<SaleAudit> {
  const truth = await claimTruth(db, dealId);
  return {
    sold: truth.activeClaims,
    oversold: Math.max(0, truth.activeClaims - units),
    duplicateClaims: truth.usersWithTwoClaims,
    counter: truth.soldCounter,
  };
}

/** Opens every pool connection before timing, so no design pays for connecting. */
export async function warmPool(db: Db, poolSize: number): Promise<void> {
  await Promise.all(Array.from({ length: poolSize }, () => db.execute(sql`SELECT pg_sleep(0.02)`)));
}

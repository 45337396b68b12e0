import { sql } from "drizzle-orm";
import postgres from "postgres";
import { type DatabaseHandle, type Db, openDatabase, rowsOf } from "@/db/client";
import { deals, merchants, users } from "@/db/schema";
import { newId } from "@/lib/ids";

const MINUTE = 60_000;
const USER_CHUNK = 2_000;

export interface BenchDatabase {
  name: string;
  handle: DatabaseHandle;
  /** Closes the pool and drops the database; safe to call after a failed run. */
  drop(): Promise<void>;
}

/**
 * A throw-away database per run, so a benchmark never shares rows (or locks) with the app
 * or with an earlier run, and nothing is left behind.
 */
export async function createBenchDatabase(options: {
  adminUrl: string;
  name: string;
  poolSize: number;
}): Promise<BenchDatabase> {
  const admin = postgres(options.adminUrl, { max: 1, onnotice: () => {} });
  const quoted = `"${options.name.replaceAll('"', '""')}"`;
  let handle: DatabaseHandle | undefined;
  const drop = async () => {
    await handle?.close().catch(() => undefined);
    // FORCE ends connections an abandoned attempt may still hold.
    await admin.unsafe(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  };
  try {
    await admin.unsafe(`CREATE DATABASE ${quoted}`);
    const url = new URL(options.adminUrl);
    url.pathname = `/${options.name}`;
    handle = await openDatabase({ url: url.toString(), poolSize: options.poolSize });
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  return { name: options.name, handle, drop };
}

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
  const merchant = {
    id: newId(),
    name: "Bench Bakery",
    address: "Benchstraat 1",
    lat: 52.37,
    lng: 4.89,
  };
  await db.insert(merchants).values(merchant);

  const userIds = Array.from({ length: options.users }, () => newId());
  const warmupUserId = newId();
  const everyone = [...userIds, warmupUserId];
  for (let start = 0; start < everyone.length; start += USER_CHUNK) {
    const chunk = everyone.slice(start, start + USER_CHUNK);
    await db.insert(users).values(
      chunk.map((id, offset) => ({
        id,
        email: `bench-${start + offset}@bench.invalid`,
        displayName: `Bench shopper ${start + offset}`,
        // Not a sign-in account: nobody logs in during the benchmark.
        passwordHash: "bench-no-login",
      })),
    );
  }

  const now = Date.now();
  const deal = (title: string, quantity: number) => ({
    id: newId(),
    merchantId: merchant.id,
    title,
    quantity,
    priceCents: 0,
    startsAt: new Date(now - MINUTE),
    endsAt: new Date(now + 60 * MINUTE),
    voucherValidUntil: new Date(now + 60 * MINUTE + 7 * 24 * 60 * MINUTE),
    lat: merchant.lat,
    lng: merchant.lng,
  });
  const seeded: Record<string, SaleDeals> = {};
  for (const design of options.designs) {
    const measured = deal(`Bench sale (${design})`, options.units);
    const warmup = deal(`Bench warm-up (${design})`, 1);
    await db.insert(deals).values([measured, warmup]);
    seeded[design] = { dealId: measured.id, warmupDealId: warmup.id };
  }
  return { userIds, warmupUserId, deals: seeded };
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
  const result = await db.execute(sql`
    SELECT
      (SELECT count(*)::int FROM claims
        WHERE deal_id = ${dealId} AND status IN ('reserved', 'confirmed')) AS sold,
      (SELECT count(*)::int FROM (
        SELECT user_id FROM claims
        WHERE deal_id = ${dealId} AND status IN ('reserved', 'confirmed')
        GROUP BY user_id HAVING count(*) > 1) AS doubled) AS duplicates,
      (SELECT sold FROM deals WHERE id = ${dealId}) AS counter`);
  const row = rowsOf<{ sold: number; duplicates: number; counter: number }>(result)[0];
  if (!row) throw new Error(`audit found no row for deal ${dealId}`);
  return {
    sold: row.sold,
    oversold: Math.max(0, row.sold - units),
    duplicateClaims: row.duplicates,
    counter: row.counter,
  };
}

/** Opens every pool connection before timing, so no design pays for connecting. */
export async function warmPool(db: Db, poolSize: number): Promise<void> {
  await Promise.all(Array.from({ length: poolSize }, () => db.execute(sql`SELECT pg_sleep(0.02)`)));
}

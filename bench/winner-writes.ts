/**
 * How fast winners reach Postgres: one statement per winner (`insertWinningClaim`) against
 * group commit (`WinnerWrites`), each on a fresh 100,000-unit deal with the same concurrency.
 * Each winner still waits for its own committed row. Run with `npm run bench:winners`.
 * Knobs (env): BENCH_WINNERS (10000), BENCH_CONCURRENCY (200), BENCH_ADMIN_DATABASE_URL.
 */
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { deals } from "@/db/schema";
import { createScratchDatabase } from "@/db/scratch-database";
import { newId } from "@/lib/ids";
import { insertWinningClaim, type NewClaim } from "@/server/claims/claim-records";
import { WinnerWrites } from "@/server/claims/winner-writes";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { writeResults } from "./report";

const winners = Number(process.env.BENCH_WINNERS ?? 10_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 200);
const adminUrl =
  process.env.BENCH_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function run(
  db: Db,
  shoppers: string[],
  merchantId: string,
  write: (c: NewClaim) => Promise<unknown>,
) {
  const now = new Date();
  const deal = await createDeal(db, merchantId, { quantity: 100_000, now });
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < shoppers.length) {
        const userId = shoppers[next++] as string;
        const t = performance.now();
        await write({
          claimId: newId(),
          dealId: deal.id,
          userId,
          idempotencyKey: `k-${userId}`,
          now,
          reservationMs: 600_000,
        });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  const [row] = await db.select({ sold: deals.sold }).from(deals).where(eq(deals.id, deal.id));
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round((latencies[Math.floor(q * (latencies.length - 1))] ?? 0) * 10) / 10;
  return {
    winnersPerSec: Math.round(shoppers.length / seconds),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    sold: row?.sold ?? 0,
  };
}

const database = await createScratchDatabase({
  adminUrl,
  name: `dealdrop_bench_${Date.now()}`,
  poolSize: 20,
});
try {
  const { db } = database;
  const merchant = await createMerchant(db);
  const shoppers = await createShoppers(db, winners);
  console.log(`${winners} winners, ${concurrency} at a time, 100,000-unit deals`);
  const alone = await run(db, shoppers, merchant.id, (claim) => insertWinningClaim(db, claim));
  const group = new WinnerWrites(db);
  const grouped = await run(db, shoppers, merchant.id, (claim) => group.write(claim));
  const results = {
    winners,
    concurrency,
    oneStatementPerWinner: alone,
    groupCommit: { ...grouped, statements: group.statements },
    speedup: Math.round((grouped.winnersPerSec / alone.winnersPerSec) * 10) / 10,
  };
  const row = (name: string, r: typeof alone) =>
    `${name.padEnd(26)}${[r.winnersPerSec, r.p50Ms, r.p99Ms, r.sold].map((v) => String(v).padStart(11)).join("")}`;
  console.log(
    `${"design".padEnd(26)}${["winners/s", "p50 ms", "p99 ms", "sold"].map((h) => h.padStart(11)).join("")}`,
  );
  console.log(row("one statement per winner", alone));
  console.log(row("group commit", grouped));
  console.log(
    `group commit: ${results.speedup}x, ${group.statements} statements; ${writeResults(results, "winner-writes")}`,
  );
} finally {
  await database.drop();
}

import "server-only";
import { eq, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals } from "@/db/schema";
import type { RedisClient } from "../redis/client";
import { type GateKeys, gateKeys, gateRegistryKey, parsePendingMember } from "./gate-keys";
import { releaseGrant } from "./redis-claim-engine";

export interface ReconcileReport {
  deals: number;
  confirmed: number;
  released: number;
  rebuilt: number;
}

interface ReconcileOptions {
  redis: RedisClient;
  db: Db;
  keyPrefix: string;
  graceMs: number;
  now?: number;
}

/**
 * Brings every Redis gate back in line with Postgres, the source of truth. Safe to run on
 * every instance at once: each step is conditional and acts at most once.
 *
 * 1. Pending reservations older than the grace period (longer than any claim write may take)
 *    were left by a crash between the gate and the database write. A claim row means the
 *    win stands and the mark goes; no row means the unit goes back.
 * 2. A quiet gate (nothing pending) whose count differs from Postgres's is dropped, so the
 *    next attempt reloads it: this heals the drift a Redis restart can leave behind.
 */
export async function reconcileGates(options: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { deals: 0, confirmed: 0, released: 0, rebuilt: 0 };
  const registry = gateRegistryKey(options.keyPrefix);
  for (const dealId of await options.redis.smembers(registry)) {
    const keys = gateKeys(options.keyPrefix, dealId);
    if ((await options.redis.exists(keys.meta)) === 0) {
      await options.redis.srem(registry, dealId);
      continue;
    }
    report.deals++;
    await settleStalePending(options, dealId, keys, report);
    if (await dropGateIfDrifted(options, dealId, keys)) report.rebuilt++;
  }
  return report;
}

async function settleStalePending(
  options: ReconcileOptions,
  dealId: string,
  keys: GateKeys,
  report: ReconcileReport,
) {
  const { redis, db } = options;
  const cutoff = (options.now ?? Date.now()) - options.graceMs;
  const stale = await redis.zrangebyscore(keys.pending, "-inf", cutoff, "LIMIT", 0, 1_000);
  if (stale.length === 0) return;
  const pending = stale.map((member) => ({ member, ...parsePendingMember(member) }));
  const recorded = await db
    .select({ id: claims.id })
    .from(claims)
    .where(
      inArray(
        claims.id,
        pending.map((p) => p.claimId),
      ),
    );
  const recordedIds = new Set(recorded.map((row) => row.id));
  for (const entry of pending) {
    if (recordedIds.has(entry.claimId)) {
      await redis.zrem(keys.pending, entry.member);
      report.confirmed++;
      continue;
    }
    if (await releaseGrant(redis, options.keyPrefix, { dealId, ...entry }, { returnUnit: true }))
      report.released++;
  }
}

async function dropGateIfDrifted(options: ReconcileOptions, dealId: string, keys: GateKeys) {
  const { redis, db } = options;
  const before = await redis.hget(keys.meta, "remaining");
  if (before === null || (await redis.zcard(keys.pending)) > 0) return false;
  const [deal] = await db
    .select({ quantity: deals.quantity, sold: deals.sold })
    .from(deals)
    .where(eq(deals.id, dealId));
  if (!deal || Number(before) === deal.quantity - deal.sold) return false;
  // Only if no grant happened meanwhile: then the difference is drift, not traffic.
  const after = await redis.hget(keys.meta, "remaining");
  if (after !== before || (await redis.zcard(keys.pending)) > 0) return false;
  await redis.del(...keys.forScripts);
  return true;
}

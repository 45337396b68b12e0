import { inArray } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Db } from "@/db/client";
import { claims } from "@/db/schema";
import { gateKeys, gateRegistryKey, parsePendingMember } from "./gate-keys";
import { releaseScript } from "./redis-claim-engine";

export interface ReconcileReport {
  deals: number;
  confirmed: number;
  released: number;
}

/**
 * Resolves reservations the gate granted but no request finished: the app crashed, or lost
 * Postgres and Redis together, between the gate and the database write. Once a pending mark
 * is older than the grace period (longer than any claim write may take), Postgres decides:
 * a claim row means the win stands and the mark is dropped; no row means the unit goes back.
 * Safe to run on every instance at once: the release script returns a unit at most once.
 */
export async function reconcilePendingClaims(options: {
  redis: Redis;
  db: Db;
  keyPrefix: string;
  graceMs: number;
  now?: number;
}): Promise<ReconcileReport> {
  const { redis, db, keyPrefix } = options;
  const cutoff = (options.now ?? Date.now()) - options.graceMs;
  const report: ReconcileReport = { deals: 0, confirmed: 0, released: 0 };
  const dealIds = await redis.smembers(gateRegistryKey(keyPrefix));

  for (const dealId of dealIds) {
    const keys = gateKeys(keyPrefix, dealId);
    if ((await redis.exists(keys.meta)) === 0) {
      await redis.srem(gateRegistryKey(keyPrefix), dealId);
      continue;
    }
    report.deals++;
    const stale = await redis.zrangebyscore(keys.pending, "-inf", cutoff, "LIMIT", 0, 1_000);
    if (stale.length === 0) continue;
    const pending = stale.map(parsePendingMember);
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
    for (const [index, entry] of pending.entries()) {
      if (recordedIds.has(entry.claimId)) {
        await redis.zrem(keys.pending, stale[index] ?? "");
        report.confirmed++;
      } else {
        const released = await releaseScript.run(
          redis,
          [keys.meta, keys.users, keys.idem, keys.pending],
          [entry.userId, entry.claimId, entry.idempotencyKey, "1"],
        );
        if (released === 1) report.released++;
      }
    }
  }
  return report;
}

import "server-only";
import { and, count, gt, inArray, lte } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, deals } from "@/db/schema";
import type { GateReadout } from "../claims/gate-status";
import type { RedisClient } from "../redis/client";

/** Deals compared per measurement, soonest-ending first: a scrape's work stays bounded. */
const MAX_DEALS = 500;
/** A sale that ended this recently is still compared (late payments, the sweep). */
const RECENT_MS = 60 * 60_000;

/**
 * Units that could be (or have been) sold beyond a deal's quantity, summed over the deals on
 * sale: Postgres's active claims past the quantity, and the units the gate would still grant
 * on top of the claims Postgres holds. In the claim's own order (the gate counts a unit down
 * before Postgres counts it up; Postgres gives a unit back before the gate does) neither is
 * ever above 0, so anything above 0 is an oversell or a gate about to make one
 * (invariants 1 and 4): the P0 alert in deploy/prometheus/alerts.yml.
 */
export async function measureOversell(db: Db, gate: GateReadout, now: Date): Promise<number> {
  const onSale = await db
    .select({ id: deals.id, quantity: deals.quantity })
    .from(deals)
    .where(and(lte(deals.startsAt, now), gt(deals.endsAt, new Date(now.getTime() - RECENT_MS))))
    .orderBy(deals.endsAt)
    .limit(MAX_DEALS);
  if (onSale.length === 0) return 0;
  const held = await db
    .select({ dealId: claims.dealId, n: count() })
    .from(claims)
    .where(
      and(
        inArray(
          claims.dealId,
          onSale.map((deal) => deal.id),
        ),
        inArray(claims.status, [...ACTIVE_CLAIM_STATUSES]),
      ),
    )
    .groupBy(claims.dealId);
  const active = new Map(held.map((row) => [row.dealId, row.n]));
  // One read per deal: a cluster's deals live on different slots, so no one pipeline.
  const remaining = await Promise.all(
    onSale.map(async (deal) => (await gate.held(deal.id))?.remaining ?? null),
  );
  let excess = 0;
  onSale.forEach((deal, i) => {
    const claimed = active.get(deal.id) ?? 0;
    const atGate = remaining[i];
    const granted = atGate == null ? claimed : claimed + Math.max(0, atGate);
    excess += Math.max(0, granted - deal.quantity);
  });
  return excess;
}

/** Seconds a PING took, or null when Redis did not answer within `timeoutMs`. */
export async function pingRedis(redis: RedisClient, timeoutMs = 1_000): Promise<number | null> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    const answer = await Promise.race([redis.ping(), late]);
    return answer === null ? null : (performance.now() - started) / 1000;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

import "server-only";
import { and, desc, eq, gt, lte } from "drizzle-orm";
import type { Db } from "@/db/client";
import { deals } from "@/db/schema";
import { log } from "../log";
import type { ClaimEngine } from "./claim-engine";

/** How far ahead of a sale's start its gate is loaded by the sweep. */
export const GATE_WARMUP_AHEAD_MS = 10 * 60_000;
/** Deals looked at per sweep, the latest start first: the sales about to open, then the running ones. */
const WARMUP_BATCH = 500;

/**
 * Loads the gate of every deal whose sale starts within `aheadMs` or is running, so the first
 * attempts of a sale never wait on a load from Postgres. Creation and edits load a gate at
 * once; this sweep covers a Redis that restarted or was flushed since, and deals written
 * behind the app's back. Returns how many gates it looked at.
 */
export async function warmUpcomingGates(
  db: Db,
  engine: Pick<ClaimEngine, "prepare">,
  now: Date,
  aheadMs = GATE_WARMUP_AHEAD_MS,
): Promise<number> {
  const upcoming = await db
    .select({ id: deals.id })
    .from(deals)
    .where(
      and(
        eq(deals.status, "active"),
        lte(deals.startsAt, new Date(now.getTime() + aheadMs)),
        gt(deals.endsAt, now),
      ),
    )
    .orderBy(desc(deals.startsAt))
    .limit(WARMUP_BATCH);
  for (const { id } of upcoming) {
    await engine.prepare(id).catch((error: unknown) => {
      log.warn({ err: error, dealId: id }, "gate not warmed ahead of its sale");
    });
  }
  return upcoming.length;
}

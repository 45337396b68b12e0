import type { Redis } from "ioredis";
import type { Db } from "@/db/client";
import type { ClaimDecider } from "@/server/claims/claim-engine";
import { EmbeddedClaimEngine } from "@/server/claims/embedded-claim-engine";
import { gateKeys } from "@/server/claims/gate-keys";
import { RedisClaimEngine } from "@/server/claims/redis-claim-engine";
import { RedisGateLoader } from "@/server/claims/redis-gate-loader";
import { RedisLockClaimEngine } from "./redis-lock";
import { RowLockClaimEngine } from "./row-lock";

/** The app's default for priced deals; unused by the free bench deals but part of the contract. */
const RESERVATION_MS = 10 * 60_000;
/** Generous next to common lock clients (a few retries, a second or two) so waits show as latency. */
const LOCK_ACQUIRE_TIMEOUT_MS = 10_000;

export interface Design {
  letter: string;
  name: string;
  engine: ClaimDecider;
  /** Work a live deployment has done before the sale opens (loading the gate). */
  prepare?(dealId: string): Promise<void>;
  /** Design-specific checks after the sale; answers the problems found. */
  audit?(dealId: string, sold: number): Promise<string[]>;
}

/** The four designs, in the order they run and are reported; (a) is the baseline of ratios. */
export function lineUpDesigns(options: {
  db: Db;
  redis: Redis;
  keyPrefix: string;
  units: number;
}): Design[] {
  const { db, redis, keyPrefix, units } = options;
  const reservationMs = RESERVATION_MS;
  const loader = new RedisGateLoader(redis, db, keyPrefix);
  return [
    {
      letter: "a",
      name: "redis-gate",
      engine: new RedisClaimEngine({ redis, db, loader, keyPrefix, reservationMs }),
      prepare: (dealId) => loader.ensureLoaded(dealId),
      // Invariant 4: the gate's remaining stock plus the active claims make the quantity.
      audit: async (dealId, sold) => {
        const keys = gateKeys(keyPrefix, dealId);
        const remaining = Number(await redis.hget(keys.meta, "remaining"));
        const pending = await redis.zcard(keys.pending);
        const problems: string[] = [];
        if (remaining + sold !== units) {
          problems.push(`gate remaining ${remaining} + sold ${sold} != ${units}`);
        }
        if (pending !== 0) problems.push(`${pending} pending reservations left in the gate`);
        return problems;
      },
    },
    {
      letter: "b",
      name: "embedded-gate",
      engine: new EmbeddedClaimEngine({ db, reservationMs }),
    },
    {
      letter: "c",
      name: "row-lock",
      engine: new RowLockClaimEngine({ db, reservationMs }),
    },
    {
      letter: "d",
      name: "redis-lock",
      engine: new RedisLockClaimEngine({
        redis,
        db,
        keyPrefix,
        reservationMs,
        acquireTimeoutMs: LOCK_ACQUIRE_TIMEOUT_MS,
      }),
    },
  ];
}

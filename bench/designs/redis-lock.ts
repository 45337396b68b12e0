import { eq } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Db } from "@/db/client";
import { deals } from "@/db/schema";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import type { ClaimDecider, ClaimRequest } from "@/server/claims/claim-engine";
import { LuaScript } from "@/server/redis/lua-script";
import { decideUnderLock, lockedDealColumns } from "./locked-claim";

/** Compare-and-delete: a holder whose lock expired must not free the next holder's lock. */
const unlockScript = new LuaScript("server/claims/lua/unlock.lua");

/** Far above one hold (a few ms) so that only a stalled holder ever loses the lock. */
const LOCK_TTL_MS = 5_000;
const RETRY_MIN_MS = 2;
const RETRY_JITTER_MS = 3;

export interface RedisLockOptions {
  redis: Redis;
  db: Db;
  keyPrefix: string;
  reservationMs: number;
  /** How long an attempt may wait for the lock before it fails (an error, not a decision). */
  acquireTimeoutMs: number;
}

/**
 * A design common in the field: a Redis `SET NX PX` lock per deal serialises the attempts,
 * and the database work runs under it with plain reads (no FOR UPDATE). Waiters poll, so
 * the lock is not fair and the waiting crowd keeps Redis busy with failed SETs.
 */
export class RedisLockClaimEngine implements ClaimDecider {
  constructor(private readonly options: RedisLockOptions) {}

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const lockKey = `${this.options.keyPrefix}lock:{deal:${request.dealId}}`;
    const token = newId();
    await this.acquire(lockKey, token);
    try {
      return await this.options.db.transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        const [deal] = await tx
          .select(lockedDealColumns)
          .from(deals)
          .where(eq(deals.id, request.dealId));
        return decideUnderLock(tx, deal, request, this.options.reservationMs);
      });
    } finally {
      await unlockScript.run(this.options.redis, [lockKey], [token]);
    }
  }

  private async acquire(lockKey: string, token: string): Promise<void> {
    const deadline = Date.now() + this.options.acquireTimeoutMs;
    for (;;) {
      const taken = await this.options.redis.set(lockKey, token, "PX", LOCK_TTL_MS, "NX");
      if (taken === "OK") return;
      if (Date.now() >= deadline) throw new Error("timed out waiting for the deal lock");
      const pause = RETRY_MIN_MS + Math.random() * RETRY_JITTER_MS;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

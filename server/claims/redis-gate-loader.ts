import "server-only";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, type Deal, deals } from "@/db/schema";
import { newId } from "@/lib/ids";
import { DomainError } from "../errors";
import type { RedisClient } from "../redis/client";
import { LuaScript } from "../redis/lua-script";
import { hadVoucher } from "./claim-records";
import { type GateKeys, gateKeys, gateRegistryKey } from "./gate-keys";

const openGateScript = new LuaScript("server/claims/lua/open-gate.lua");
const unlockScript = new LuaScript("server/claims/lua/unlock.lua");
const updateGateScript = new LuaScript("server/claims/lua/update-gate.lua");

const LOCK_MS = 5_000;
const WAIT_STEP_MS = 15;
const MISSING_DEAL_TTL_MS = 30_000;
/** Gate keys outlive the sale by a week so that late retries still replay their wins. */
const KEEP_AFTER_SALE_MS = 7 * 24 * 3_600_000;
const CHUNK = 2_000;

/**
 * Builds a deal's gate from Postgres, the source of truth, when Redis does not have it:
 * a cold start, a Redis that restarted or was flushed, a new deal. One loader at a time per
 * deal holds a short lock; the others wait for the gate to open.
 */
export class RedisGateLoader {
  /** Loads in progress in this process: a sale's first thousand attempts share one. */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly db: Db,
    private readonly prefix: string,
  ) {}

  ensureLoaded(dealId: string): Promise<void> {
    let loading = this.loading.get(dealId);
    if (!loading) {
      loading = this.loadUnlessOpen(dealId).finally(() => this.loading.delete(dealId));
      this.loading.set(dealId, loading);
    }
    return loading;
  }

  private async loadUnlessOpen(dealId: string): Promise<void> {
    const keys = gateKeys(this.prefix, dealId);
    const isOpen = async () => (await this.redis.exists(keys.meta)) === 1;
    await this.underLoadLock(
      dealId,
      async (token) => {
        if (!(await isOpen())) await this.load(dealId, keys, token);
      },
      isOpen,
    );
  }

  /**
   * Tells an open gate about an edited deal (more stock, a new window or fence, a new state)
   * at once, from the deal row as Postgres holds it now. A gate that is not open has nothing
   * to learn: the next attempt loads the edited deal.
   */
  async syncDeal(dealId: string): Promise<void> {
    const keys = gateKeys(this.prefix, dealId);
    const outcome = await this.underLoadLock(dealId, async (token) => {
      const [deal] = await this.db.select().from(deals).where(eq(deals.id, dealId));
      if (!deal) return 0;
      return updateGateScript.run(
        this.redis,
        [...keys.forScripts, keys.loadLock],
        [token, deal.quantity, ...gateFields(deal)],
      );
    });
    if (outcome === 2) {
      await this.unload(dealId);
      await this.ensureLoaded(dealId);
    }
  }

  /**
   * Runs `work` holding the deal's load lock, waiting while another loader holds it; gives
   * up waiting early once `done` says there is nothing left to do.
   */
  private async underLoadLock<T>(
    dealId: string,
    work: (token: string) => Promise<T>,
    done: () => Promise<boolean> = async () => false,
  ): Promise<T | undefined> {
    const keys = gateKeys(this.prefix, dealId);
    const token = newId();
    const deadline = Date.now() + LOCK_MS * 2;
    while (Date.now() < deadline) {
      if (await done()) return undefined;
      if ((await this.redis.set(keys.loadLock, token, "PX", LOCK_MS, "NX")) === "OK") {
        try {
          return await work(token);
        } finally {
          await unlockScript.run(this.redis, [keys.loadLock], [token]);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
    throw new DomainError("UNAVAILABLE", "The sale is starting up; please try again.");
  }

  /** Drops a deal's gate so that the next attempt loads it again from Postgres. */
  async unload(dealId: string): Promise<void> {
    const keys = gateKeys(this.prefix, dealId);
    await this.redis.del(...keys.forScripts);
  }

  private async load(dealId: string, keys: GateKeys, token: string): Promise<void> {
    const [deal] = await this.db.select().from(deals).where(eq(deals.id, dealId));
    if (!deal) {
      await this.redis.hset(keys.meta, "state", "missing");
      await this.redis.pexpire(keys.meta, MISSING_DEAL_TTL_MS);
      return;
    }
    const held = await this.db
      .select({ id: claims.id, userId: claims.userId, idempotencyKey: claims.idempotencyKey })
      .from(claims)
      .where(and(eq(claims.dealId, dealId), inArray(claims.status, [...ACTIVE_CLAIM_STATUSES])));

    // Shoppers who cancelled a claim with a voucher stay barred (see release.lua).
    const barred = await this.db
      .select({ id: claims.id, userId: claims.userId })
      .from(claims)
      .where(and(eq(claims.dealId, dealId), eq(claims.status, "cancelled"), hadVoucher));

    await this.redis.del(keys.users, keys.idem, keys.pending);
    for (let start = 0; start < barred.length; start += CHUNK) {
      await this.redis.pexpire(keys.loadLock, LOCK_MS);
      const chunk = barred.slice(start, start + CHUNK);
      await this.redis.hset(
        keys.users,
        Object.fromEntries(chunk.map((c) => [c.userId, `!${c.id}`])),
      );
    }
    for (let start = 0; start < held.length; start += CHUNK) {
      // A big deal loads in chunks; keep the lock alive so no second loader starts over.
      await this.redis.pexpire(keys.loadLock, LOCK_MS);
      const chunk = held.slice(start, start + CHUNK);
      await this.redis.hset(keys.users, Object.fromEntries(chunk.map((c) => [c.userId, c.id])));
      await this.redis.hset(
        keys.idem,
        Object.fromEntries(chunk.map((c) => [`${c.userId}:${c.idempotencyKey}`, c.id])),
      );
    }
    await openGateScript.run(
      this.redis,
      [...keys.forScripts, keys.loadLock],
      [token, deal.quantity - held.length, ...gateFields(deal), deal.quantity],
    );
    await this.redis.sadd(gateRegistryKey(this.prefix), dealId);
  }
}

/** What the gate keeps of a deal, in the order open-gate.lua and update-gate.lua take it. */
function gateFields(deal: Deal) {
  return [
    deal.startsAt.getTime(),
    deal.endsAt.getTime(),
    deal.status,
    deal.endsAt.getTime() + KEEP_AFTER_SALE_MS,
    deal.geofenceRadiusM ? deal.lat : "",
    deal.geofenceRadiusM ? deal.lng : "",
    deal.geofenceRadiusM ?? "",
  ];
}

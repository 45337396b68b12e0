import "server-only";
import { and, count, eq, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, deals } from "@/db/schema";
import { recordAudit } from "../audit/audit-log";
import { type Actor, assertMayManage } from "../auth/actor";

import { DomainError } from "../errors";
import type { RedisClient } from "../redis/client";
import { gateKeys } from "./gate-keys";
import type { RedisGateLoader } from "./redis-gate-loader";

export interface GateStatus {
  dealId: string;
  quantity: number;
  activeClaims: number;
  /** Units the gate would still grant; null when the Redis gate is not loaded yet. */
  remainingAtGate: number | null;
  pendingAtGate: number;
  /** remaining + active claims == quantity (invariant 4), or nothing to compare yet. */
  consistent: boolean;
}

/** Reconciliation status of one deal: the gate's count against Postgres's. */
export class GateStatusService {
  constructor(
    private readonly db: Db,
    private readonly redis: RedisClient | null,
    private readonly keyPrefix: string,
    private readonly loader: RedisGateLoader | null,
  ) {}

  /**
   * Units a shopper could still win, out of the deal's quantity: the gate's count, or
   * Postgres's when the gate is cold.
   */
  async stock(dealId: string): Promise<{ remaining: number; quantity: number }> {
    if (this.redis) {
      const [remaining, quantity] = await this.redis.hmget(
        gateKeys(this.keyPrefix, dealId).meta,
        "remaining",
        "quantity",
      );
      if (remaining !== null && quantity !== null) {
        return { remaining: Math.max(0, Number(remaining)), quantity: Number(quantity) };
      }
    }
    const [deal] = await this.db
      .select({ quantity: deals.quantity, sold: deals.sold })
      .from(deals)
      .where(eq(deals.id, dealId));
    return deal
      ? { remaining: deal.quantity - deal.sold, quantity: deal.quantity }
      : { remaining: 0, quantity: 0 };
  }

  async status(dealId: string): Promise<GateStatus> {
    const [deal] = await this.db.select().from(deals).where(eq(deals.id, dealId));
    if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
    const [held] = await this.db
      .select({ n: count() })
      .from(claims)
      .where(and(eq(claims.dealId, dealId), inArray(claims.status, [...ACTIVE_CLAIM_STATUSES])));
    const activeClaims = held?.n ?? 0;

    let remainingAtGate: number | null = deal.quantity - deal.sold;
    let pendingAtGate = 0;
    if (this.redis) {
      const keys = gateKeys(this.keyPrefix, dealId);
      const remaining = await this.redis.hget(keys.meta, "remaining");
      remainingAtGate = remaining === null ? null : Number(remaining);
      pendingAtGate = await this.redis.zcard(keys.pending);
    }
    const consistent =
      remainingAtGate === null || remainingAtGate + activeClaims + pendingAtGate === deal.quantity;
    return {
      dealId,
      quantity: deal.quantity,
      activeClaims,
      remainingAtGate,
      pendingAtGate,
      consistent,
    };
  }

  /**
   * Drops the deal's Redis gate and loads it again from Postgres. An operator's rebuild is
   * audited (`actor`); one that is part of another change (a cancellation) is not again.
   */
  async rebuild(dealId: string, actor?: Actor): Promise<GateStatus> {
    const [deal] = await this.db
      .select({ merchantId: deals.merchantId })
      .from(deals)
      .where(eq(deals.id, dealId));
    if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
    if (actor) assertMayManage(actor, deal.merchantId);
    const before = actor ? await this.status(dealId) : null;
    if (this.loader) {
      await this.loader.unload(dealId);
      await this.loader.ensureLoaded(dealId);
    }
    const after = await this.status(dealId);
    if (actor) {
      const entry = {
        action: "gate.rebuild",
        targetType: "gate" as const,
        targetId: dealId,
        merchantId: deal.merchantId,
        details: { before, after },
      };
      await recordAudit(this.db, actor, entry, new Date());
    }
    return after;
  }
}

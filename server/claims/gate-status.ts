import "server-only";
import { and, count, eq, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, deals } from "@/db/schema";
import { recordAudit } from "../audit/audit-log";
import { type Actor, assertMayManage } from "../auth/actor";

import { DomainError } from "../errors";

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

/**
 * What a platform's gate holds beside Postgres (server/platform.ts). The Redis gate keeps its
 * own count; the embedded gate is the deal row itself, so it has nothing to add.
 */
export interface GateReadout {
  /** The gate's units left and quantity; null when it holds none (cold, or no gate of its own). */
  stock(dealId: string): Promise<{ remaining: number; quantity: number } | null>;
  /** Units it would grant (null: not loaded) and pending marks; null for no gate of its own. */
  held(dealId: string): Promise<{ remaining: number | null; pending: number } | null>;
  /** Drops what it holds for the deal and loads it again from Postgres. */
  reload(dealId: string): Promise<void>;
}

/** The embedded platform's readout: the deal row is the gate. */
export const DEAL_ROW_GATE: GateReadout = {
  stock: async () => null,
  held: async () => null,
  reload: async () => {},
};

/** Reconciliation status of one deal: the gate's count against Postgres's. */
export class GateStatusService {
  constructor(
    private readonly db: Db,
    private readonly gate: GateReadout,
  ) {}

  /**
   * Units a shopper could still win, out of the deal's quantity: the gate's count, or
   * Postgres's when the gate is cold.
   */
  async stock(dealId: string): Promise<{ remaining: number; quantity: number }> {
    const atGate = await this.gate.stock(dealId);
    if (atGate) return atGate;
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

    const atGate = await this.gate.held(dealId);
    const remainingAtGate = atGate ? atGate.remaining : deal.quantity - deal.sold;
    const pendingAtGate = atGate?.pending ?? 0;
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
   * Drops the deal's gate state and loads it again from Postgres. An operator's rebuild is
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
    await this.gate.reload(dealId);
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

import "server-only";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, type Deal, deals, merchants } from "@/db/schema";
import {
  type CreateDealInput,
  type DealFields,
  type DealProblems,
  dealFieldsSchema,
  dealPhase,
  dealWindowProblems,
  type UpdateDealInput,
  withDealDefaults,
} from "@/lib/deals/deal-rules";
import { newId } from "@/lib/ids";
import { recordAudit } from "../audit/audit-log";
import { type Actor, assertMayManage, merchantScopeOf } from "../auth/actor";
import { DomainError } from "../errors";
import { log } from "../log";
import { revokeVouchersOfClaims } from "../vouchers/voucher-service";

/** What a deal change must tell the parts that keep copies of deals. */
export interface DealChangeListeners {
  /** The claim gate: learns a new or edited deal at once, and loads it ahead of the sale. */
  gateChanged(dealId: string): Promise<void>;
  /** The gate after a cancellation: rebuilt, since claims left it. */
  gateRebuilt(dealId: string): Promise<void>;
  /** Cached deal lists and live stock. */
  listingsChanged(dealId: string): Promise<void>;
  /** Payments of cancelled claims go back to the shoppers. */
  claimsCancelled(claimIds: string[]): Promise<void>;
}

const EDITABLE = Object.keys(dealFieldsSchema.shape) as (keyof DealFields)[];

/**
 * Deals as admins and merchant staff manage them. Staff act on their own merchant's deals
 * only; every change is checked against the deal's phase, written with its audit entry in
 * one transaction, and then told to the gate, the caches and live stock.
 */
export class DealManagement {
  constructor(
    private readonly db: Db,
    private readonly listeners: DealChangeListeners,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Every deal for an admin, the merchant's own for staff; newest sale first. */
  async list(actor: Actor) {
    return this.db
      .select({
        id: deals.id,
        title: deals.title,
        merchantId: deals.merchantId,
        merchantName: merchants.name,
        status: deals.status,
        quantity: deals.quantity,
        sold: deals.sold,
        priceCents: deals.priceCents,
        currency: deals.currency,
        startsAt: deals.startsAt,
        endsAt: deals.endsAt,
      })
      .from(deals)
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(actor.role === "admin" ? undefined : eq(deals.merchantId, merchantScopeOf(actor)))
      .orderBy(desc(deals.startsAt))
      .limit(500);
  }

  async get(actor: Actor, dealId: string) {
    const [row] = await this.db
      .select({ deal: deals, merchantName: merchants.name })
      .from(deals)
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(eq(deals.id, dealId));
    if (!row) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
    assertMayManage(actor, row.deal.merchantId);
    return { ...view(row.deal), merchantName: row.merchantName };
  }

  async create(actor: Actor, given: CreateDealInput) {
    const input = withDealDefaults(given);
    const merchantId = this.merchantOfNewDeal(actor, input.merchantId);
    const now = this.clock();
    throwIfProblems(dealWindowProblems(input, now));
    const id = newId();
    await this.db.transaction(async (tx) => {
      const [merchant] = await tx
        .select({ id: merchants.id })
        .from(merchants)
        .where(eq(merchants.id, merchantId));
      if (!merchant) {
        throw new DomainError("NOT_FOUND", "No merchant has this id.", { merchantId });
      }
      await tx.insert(deals).values({ id, merchantId, ...columnsOf(input), createdAt: now });
      await recordAudit(
        tx,
        actor,
        {
          action: "deal.create",
          targetType: "deal",
          targetId: id,
          merchantId,
          details: { title: input.title, quantity: input.quantity },
        },
        now,
      );
    });
    await this.listeners.listingsChanged(id);
    // The deal exists now whatever the gate says: a gate that cannot be loaded yet (Redis
    // out of reach) is loaded by the pre-start sweep, or by the first attempt.
    await this.listeners
      .gateChanged(id)
      .catch((error: unknown) =>
        log.warn({ err: error, dealId: id }, "gate not loaded at creation"),
      );
    return this.get(actor, id);
  }

  /**
   * Edits a deal. Before its sale starts anything may change; while it is live the quantity
   * may only grow and the start and price stay; an ended or cancelled deal is closed.
   */
  async update(actor: Actor, input: UpdateDealInput) {
    const now = this.clock();
    const changed = await this.db.transaction(async (tx) => {
      const [deal] = await tx.select().from(deals).where(eq(deals.id, input.dealId)).for("update");
      if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", input);
      assertMayManage(actor, deal.merchantId);
      const before = fieldsOf(deal);
      const after: DealFields = { ...before, ...definedOnly(input.changes) };
      const diff = differences(before, after);
      if (Object.keys(diff).length === 0) return null;
      throwIfProblems(editProblems(deal, before, after, now));
      await tx
        .update(deals)
        .set({ ...columnsOf(after), updatedAt: now })
        .where(eq(deals.id, deal.id));
      await recordAudit(
        tx,
        actor,
        {
          action: "deal.update",
          targetType: "deal",
          targetId: deal.id,
          merchantId: deal.merchantId,
          details: diff,
        },
        now,
      );
      return diff;
    });
    if (changed) {
      await this.listeners.gateChanged(input.dealId);
      await this.listeners.listingsChanged(input.dealId);
    }
    return this.get(actor, input.dealId);
  }

  /**
   * Cancels a deal: no claim succeeds from now on, and every claim not yet redeemed is
   * cancelled with its voucher revoked (devices refuse it once they sync) and its payment
   * refunded. Redeemed vouchers stay as they are. Cancelling twice changes nothing.
   */
  async cancel(actor: Actor, dealId: string, reason: string) {
    const now = this.clock();
    const cancelledClaimIds = await this.db.transaction(async (tx) => {
      const [deal] = await tx.select().from(deals).where(eq(deals.id, dealId)).for("update");
      if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
      assertMayManage(actor, deal.merchantId);
      if (deal.status === "cancelled") return null;
      // Locks the vouchers against online redemptions racing with the cancellation.
      await tx.execute(sql`SELECT 1 FROM vouchers WHERE deal_id = ${dealId} FOR UPDATE`);
      const cancelled = await tx
        .update(claims)
        .set({ status: "cancelled", updatedAt: now })
        .where(
          and(
            eq(claims.dealId, dealId),
            inArray(claims.status, [...ACTIVE_CLAIM_STATUSES]),
            sql`NOT EXISTS (SELECT 1 FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
                            WHERE v.claim_id = ${claims.id})`,
          ),
        )
        .returning({ id: claims.id });
      const ids = cancelled.map((claim) => claim.id);
      await tx
        .update(deals)
        .set({ status: "cancelled", sold: sql`${deals.sold} - ${ids.length}`, updatedAt: now })
        .where(eq(deals.id, dealId));
      await revokeVouchersOfClaims(tx, ids, `deal cancelled: ${reason}`, now);
      await recordAudit(
        tx,
        actor,
        {
          action: "deal.cancel",
          targetType: "deal",
          targetId: dealId,
          merchantId: deal.merchantId,
          details: { reason, claimsCancelled: ids.length, phase: dealPhase(deal, now) },
        },
        now,
      );
      return ids;
    });
    if (cancelledClaimIds) {
      await this.listeners.gateRebuilt(dealId);
      await this.listeners.listingsChanged(dealId);
      await this.listeners.claimsCancelled(cancelledClaimIds).catch((error: unknown) => {
        // The claims are cancelled; a refund that failed now is retried by hand from the log.
        log.error({ err: error, dealId }, "refunds of a cancelled deal failed");
      });
    }
    return { ...(await this.get(actor, dealId)), claimsCancelled: cancelledClaimIds?.length ?? 0 };
  }

  private merchantOfNewDeal(actor: Actor, requested: string | undefined): string {
    if (actor.role === "admin") {
      if (!requested) {
        throw invalid({ merchantId: ["choose the merchant this deal belongs to"] });
      }
      return requested;
    }
    const own = merchantScopeOf(actor);
    if (requested && requested !== own) {
      throw new DomainError("NOT_YOURS", "Staff create deals for their own merchant only.");
    }
    return own;
  }
}

function editProblems(deal: Deal, before: DealFields, after: DealFields, now: Date) {
  const phase = dealPhase(deal, now);
  if (phase === "cancelled") {
    throw new DomainError("INVALID_STATE", "This deal was cancelled; it can no longer change.");
  }
  if (phase === "ended") {
    throw new DomainError("INVALID_STATE", "This sale has ended; it can no longer change.");
  }
  const problems = dealWindowProblems(after, now);
  if (after.quantity < deal.sold) {
    problems.quantity = [`${deal.sold} units are already claimed; quantity cannot go below that`];
  }
  if (phase === "live") {
    if (after.quantity < before.quantity) {
      problems.quantity = [
        `the sale is live, so its quantity can only grow (it is ${before.quantity})`,
      ];
    }
    if (after.startsAt.getTime() !== before.startsAt.getTime()) {
      problems.startsAt = ["the sale has started; its start cannot move"];
    }
    if (after.priceCents !== before.priceCents) {
      problems.priceCents = ["the sale is live; shoppers have claimed at this price"];
    }
  }
  return problems;
}

function throwIfProblems(problems: DealProblems) {
  if (Object.keys(problems).length > 0) throw invalid(problems);
}

function invalid(fieldErrors: Record<string, string[] | undefined>) {
  const first = Object.entries(fieldErrors).find(([, messages]) => messages?.length);
  return new DomainError(
    "INVALID_INPUT",
    first ? `${first[0]}: ${first[1]?.[0]}` : "The deal is not valid.",
    { fieldErrors },
  );
}

function fieldsOf(deal: Deal): DealFields {
  return {
    title: deal.title,
    description: deal.description,
    priceCents: deal.priceCents,
    originalPriceCents: deal.originalPriceCents,
    quantity: deal.quantity,
    startsAt: deal.startsAt,
    endsAt: deal.endsAt,
    voucherValidUntil: deal.voucherValidUntil,
    location: { lat: deal.lat, lng: deal.lng },
    geofenceRadiusM: deal.geofenceRadiusM,
    finePrint: deal.finePrint,
    pickupStartsAt: deal.pickupStartsAt,
    pickupEndsAt: deal.pickupEndsAt,
  };
}

function columnsOf(fields: DealFields) {
  const { location, ...rest } = fields;
  return { ...rest, lat: location.lat, lng: location.lng };
}

function view(deal: Deal) {
  return {
    id: deal.id,
    merchantId: deal.merchantId,
    status: deal.status,
    sold: deal.sold,
    ...fieldsOf(deal),
  };
}

function definedOnly(changes: Partial<DealFields>): Partial<DealFields> {
  return Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  ) as Partial<DealFields>;
}

/** The fields that differ, as `{field: {from, to}}`: the audit entry of an edit. */
function differences(before: DealFields, after: DealFields) {
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of EDITABLE) {
    const from = before[field];
    const to = after[field];
    if (JSON.stringify(from) !== JSON.stringify(to)) diff[field] = { from, to };
  }
  return diff;
}

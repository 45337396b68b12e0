import "server-only";
import { and, eq, lt, sql } from "drizzle-orm";
import { type Db, pgErrorCode } from "@/db/client";
import { claims, deals } from "@/db/schema";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { distanceKm } from "@/lib/geo";
import { newId } from "@/lib/ids";
import { DomainError } from "../errors";
import { MemoryRateLimiter } from "../rate-limit/rate-limiter";
import { type ClaimEngine, type ClaimRequest, outOfAreaError } from "./claim-engine";
import { CLAIM_LIMITS, rateLimitedError } from "./claim-limits";
import { findPriorClaim } from "./claim-records";

/**
 * The gate without Redis: the whole decision in one Postgres transaction. The conditional
 * UPDATE of the deal's `sold` counter takes the row lock that orders concurrent attempts;
 * the partial unique index on active claims settles a user racing with themself.
 * Every attempt, won or lost, costs a transaction: that is the price of having no Redis.
 */
export class EmbeddedClaimEngine implements ClaimEngine {
  /** In memory: embedded mode is one process by construction (PGlite has one connection). */
  private readonly attempts = new MemoryRateLimiter();

  constructor(private readonly options: { db: Db; reservationMs: number }) {}

  /** Postgres is the gate here: the cancelling transaction already returned the unit. */
  async returnCancelledUnit(): Promise<void> {}

  /** Every attempt reads the deal row, so an edit counts from its commit on. */
  async dealChanged(): Promise<void> {}

  /** Nothing to load: the embedded gate is the deal row itself. */
  async prepare(): Promise<void> {}

  /** A winner is its transaction: answered, it is settled. */
  async settle(): Promise<void> {}

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    await this.countAttempt(request);
    try {
      // Here the decision and the write are one transaction.
      const result = await this.options.db.transaction((tx) =>
        this.decide(tx as unknown as Db, request),
      );
      request.decided?.();
      return result;
    } catch (error) {
      if (pgErrorCode(error) !== "23505") throw error;
      const prior = await findPriorClaim(this.options.db, request);
      if (prior) return prior;
      throw new DomainError("UNAVAILABLE", "Your claim could not be recorded; please try again.");
    }
  }

  private async countAttempt({ dealId, userId, ip }: ClaimRequest) {
    const { windowMs, perShopper, perAddress } = CLAIM_LIMITS;
    const decisions = [await this.attempts.hit(`${dealId}:u:${userId}`, perShopper, windowMs)];
    if (decisions[0]?.allowed && ip) {
      decisions.push(await this.attempts.hit(`${dealId}:ip:${ip}`, perAddress, windowMs));
    }
    const refused = decisions.find((decision) => !decision.allowed);
    if (refused) throw rateLimitedError(refused.retryAfterMs);
  }

  private async decide(tx: Db, request: ClaimRequest): Promise<ClaimResult> {
    const prior = await findPriorClaim(tx, request);
    if (prior) return prior;

    const now = request.now;
    const [unit] = await tx
      .update(deals)
      .set({ sold: sql`${deals.sold} + 1` })
      .where(
        and(
          eq(deals.id, request.dealId),
          eq(deals.status, "active"),
          lt(deals.sold, deals.quantity),
          sql`${deals.startsAt} <= ${now.toISOString()}::timestamptz`,
          sql`${deals.endsAt} > ${now.toISOString()}::timestamptz`,
        ),
      )
      .returning({
        priceCents: deals.priceCents,
        lat: deals.lat,
        lng: deals.lng,
        fenceM: deals.geofenceRadiusM,
      });
    if (!unit) return this.explainRefusal(tx, request);
    if (unit.fenceM) {
      // Thrown inside the transaction, so the unit just taken goes back with the rollback.
      if (!request.position) throw outOfAreaError(null, unit.fenceM);
      const distanceM = Math.round(distanceKm(request.position, unit) * 1_000);
      if (distanceM > unit.fenceM) throw outOfAreaError(distanceM, unit.fenceM);
    }

    const priced = unit.priceCents > 0;
    const reservedUntil = priced ? new Date(now.getTime() + this.options.reservationMs) : null;
    const claimId = newId();
    await tx.insert(claims).values({
      id: claimId,
      dealId: request.dealId,
      userId: request.userId,
      status: priced ? "reserved" : "confirmed",
      idempotencyKey: request.idempotencyKey,
      reservedUntil,
      createdAt: now,
      updatedAt: now,
    });
    return {
      outcome: "WON",
      claimId,
      status: priced ? "reserved" : "confirmed",
      reservedUntil,
      replayed: false,
    };
  }

  private async explainRefusal(tx: Db, request: ClaimRequest): Promise<ClaimResult> {
    // The UPDATE may have waited on the row lock for a concurrent attempt by this same user
    // (a retry of this key, say) that has committed since: this new statement sees its claim,
    // and the answer must be that claim, not "sold out".
    const prior = await findPriorClaim(tx, request);
    if (prior) return prior;
    const [deal] = await tx
      .select({
        status: deals.status,
        startsAt: deals.startsAt,
        endsAt: deals.endsAt,
      })
      .from(deals)
      .where(eq(deals.id, request.dealId));
    if (!deal)
      throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId: request.dealId });
    if (deal.status === "cancelled") return { outcome: "CANCELLED" };
    if (request.now < deal.startsAt) return { outcome: "NOT_STARTED" };
    if (request.now >= deal.endsAt) return { outcome: "ENDED" };
    return { outcome: "SOLD_OUT" };
  }
}

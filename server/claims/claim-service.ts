import "server-only";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims, deals, merchants, payments, vouchers } from "@/db/schema";
import type { ClaimInput, ClaimResult, ClaimStatus } from "@/lib/claims/claim-contract";
import type { BotCheck } from "../bots/bot-check";
import { DomainError, isOutage } from "../errors";
import { log } from "../log";
import type { VoucherIssuer } from "../vouchers/voucher-issuer";
import { revokeVouchersOfClaims } from "../vouchers/voucher-service";
import type { ClaimEngine } from "./claim-engine";
import { type AttemptOutcome, type ClaimObserver, outcomeOfError } from "./claim-observer";
import { LoadShedder } from "./load-shedder";

/**
 * The claim use cases, free of HTTP and tRPC so that a lean HTTP route can call them as
 * they are. Authentication happened before (from the session cookie, without the database).
 */
export class ClaimService {
  private readonly clock: () => Date;
  private readonly onStockChange: (dealId: string) => void;
  private readonly onCancelled: (claimIds: string[]) => Promise<unknown>;
  private readonly observe: ClaimObserver;
  private readonly shedder: LoadShedder;
  private readonly bots: BotCheck | undefined;

  constructor(
    private readonly engine: ClaimEngine,
    private readonly db: Db,
    private readonly issuer: VoucherIssuer,
    options: {
      clock?: () => Date;
      /** Told when a deal's stock changed (a win, a cancellation), for live stock. */
      onStockChange?: (dealId: string) => void;
      /**
       * Told after a cancellation committed: the payment saga refunds a paid claim. A refund
       * that fails here is owed, and the background sweep pays it (CheckoutService.refundOwed).
       */
      onCancelled?: (claimIds: string[]) => Promise<unknown>;
      /** Told of every attempt's outcome and latency, for metrics and the sale monitor. */
      observe?: ClaimObserver;
      /** Refuses attempts at once while the gate is overloaded (defaults: LoadShedder's). */
      shedder?: LoadShedder;
      /** Asks a proof of work of a client claiming faster than a person does. */
      bots?: BotCheck;
    } = {},
  ) {
    this.bots = options.bots;
    this.shedder = options.shedder ?? new LoadShedder();
    this.clock = options.clock ?? (() => new Date());
    this.onStockChange = options.onStockChange ?? (() => undefined);
    this.onCancelled = options.onCancelled ?? (async () => undefined);
    this.observe = options.observe ?? (() => undefined);
  }

  /**
   * One claim attempt. The engine limits attempts per shopper (a person clicking, retries
   * included) and per address (CLAIM_LIMITS); a limited attempt touches nothing else.
   */
  async claim(userId: string, input: ClaimInput, ip?: string): Promise<ClaimResult> {
    const started = performance.now();
    const timing: { gateMs?: number } = {};
    try {
      const result = await this.attempt(userId, input, ip, timing);
      this.report(input.dealId, result.outcome, started, timing.gateMs);
      return result;
    } catch (error) {
      this.report(input.dealId, outcomeOfError(error), started, timing.gateMs);
      throw error;
    }
  }

  private report(
    dealId: string,
    outcome: AttemptOutcome,
    started: number,
    gateMs: number | undefined,
  ) {
    try {
      this.observe({ dealId, outcome, durationMs: performance.now() - started, gateMs });
    } catch (error) {
      log.error({ err: error }, "claim observer failed");
    }
  }

  private async attempt(
    userId: string,
    input: ClaimInput,
    ip: string | undefined,
    timing: { gateMs?: number },
  ): Promise<ClaimResult> {
    // No await for the attempts below the bot threshold: nearly all of them.
    const challenged = this.bots?.admit(ip, userId, input.proof);
    if (challenged) await challenged;
    const ticket = this.shedder.admit();
    if (!ticket) {
      throw new DomainError(
        "UNAVAILABLE",
        "So many people are claiming right now that yours could not be taken: try again in a moment.",
        { retryAfterMs: this.shedder.retryAfterMs(), shed: true },
      );
    }
    const gateStarted = performance.now();
    // The shedder times the gate's decision alone: a winner's Postgres write is not the gate.
    const decided = () => ticket.timed(performance.now() - gateStarted);
    let result: ClaimResult;
    try {
      // Written out rather than `{ ...input, userId, … }`: in Node 20 a spread followed by more
      // fields built a slow object, ~2.5 µs of every attempt, and slowed what read it after.
      result = await this.engine.claim({
        dealId: input.dealId,
        idempotencyKey: input.idempotencyKey,
        position: input.position,
        userId,
        ip,
        now: this.clock(),
        decided,
      });
    } catch (error) {
      throw this.unavailableUnlessTyped(error);
    } finally {
      timing.gateMs = performance.now() - gateStarted;
      ticket.timed(timing.gateMs); // no-op if the gate reported its decision
      ticket.release();
    }
    if (result.outcome === "WON" && !result.replayed) this.onStockChange(input.dealId);
    // A voucher committed with the claim (WinnerWrites) is in the answer already.
    if (result.outcome !== "WON" || result.status !== "confirmed" || result.voucherId) {
      return result;
    }
    // The win is durable already; a voucher that fails to issue now is issued when the
    // shopper next lists their vouchers, so the answer stays "won".
    const voucher = await this.issuer.issueForClaim(result.claimId).catch((error: unknown) => {
      log.error({ err: error, claimId: result.claimId }, "voucher not issued; will retry");
      return null;
    });
    return voucher ? { ...result, voucherId: voucher.id } : result;
  }

  /**
   * A failure of Redis or Postgres under the engine (connection refused, reset, cluster down)
   * is told as UNAVAILABLE with a retry delay: the attempt changed nothing it did not undo,
   * and trying again shortly is the right thing for the shopper to do.
   */
  private unavailableUnlessTyped(error: unknown): DomainError {
    const retryAfterMs = this.shedder.retryAfterMs();
    if (DomainError.is(error)) {
      if (error.code !== "UNAVAILABLE" || error.details.retryAfterMs !== undefined) return error;
      return new DomainError(error.code, error.message, { ...error.details, retryAfterMs });
    }
    // An outage is logged once by the Redis client (server/redis/client.ts), not per claim.
    if (!isOutage(error)) log.error({ err: error }, "claim engine failed");
    return new DomainError("UNAVAILABLE", "The sale could not be reached: try again in a moment.", {
      retryAfterMs,
    });
  }

  /**
   * Cancels one of the shopper's claims that has not been redeemed: the unit goes back on
   * sale and the voucher is revoked, so merchant devices refuse it once they sync.
   * Cancelling a cancelled claim again changes nothing.
   */
  /**
   * `reservedOnly`: the payment saga giving back a unit it could not pay for, which must not
   * cancel a claim the provider's webhook confirmed meanwhile.
   */
  async cancel(
    userId: string,
    claimId: string,
    { reservedOnly = false } = {},
  ): Promise<{ claimId: string; status: "cancelled" }> {
    const now = this.clock();
    const cancelled = await this.db.transaction(async (tx) => {
      // Locks the voucher against an online redemption racing with this cancellation.
      const voucher = rowsOf(
        await tx.execute(sql`SELECT 1 FROM vouchers WHERE claim_id = ${claimId} FOR UPDATE`),
      );
      const [claim] = await tx
        .update(claims)
        .set({ status: "cancelled", updatedAt: now })
        .where(
          and(
            eq(claims.id, claimId),
            eq(claims.userId, userId),
            inArray(claims.status, reservedOnly ? ["reserved"] : [...ACTIVE_CLAIM_STATUSES]),
            sql`NOT EXISTS (SELECT 1 FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
                            WHERE v.claim_id = ${claims.id})`,
          ),
        )
        .returning();
      if (!claim) return null;
      await tx
        .update(deals)
        .set({ sold: sql`${deals.sold} - 1` })
        .where(eq(deals.id, claim.dealId));
      await revokeVouchersOfClaims(tx, [claim.id], "cancelled by the shopper", now);
      return { ...claim, hadVoucher: voucher.length > 0 };
    });
    if (cancelled) {
      await this.engine.returnCancelledUnit({ ...cancelled, claimId: cancelled.id });
      this.onStockChange(cancelled.dealId);
      await this.onCancelled([cancelled.id]).catch((error: unknown) => {
        log.error({ err: error, claimId }, "refund after a cancellation failed; retried later");
      });
      return { claimId, status: "cancelled" };
    }
    return this.explainCancelRefusal(userId, claimId);
  }

  private async explainCancelRefusal(userId: string, claimId: string) {
    const [claim] = await this.db
      .select({ status: claims.status })
      .from(claims)
      .where(and(eq(claims.id, claimId), eq(claims.userId, userId)));
    if (!claim) throw new DomainError("NOT_FOUND", "You have no claim with this id.", { claimId });
    if (claim.status === "cancelled") return { claimId, status: "cancelled" as const };
    if (claim.status === "expired") {
      throw new DomainError("INVALID_STATE", "This reservation has already expired.");
    }
    throw new DomainError(
      "INVALID_STATE",
      "This voucher was already redeemed, so it cannot be cancelled.",
    );
  }

  /** The shopper's claims, newest first, each with its payment as the shopper sees it. */
  async mine(userId: string) {
    const rows = await this.db
      .select({
        claimId: claims.id,
        status: claims.status,
        reservedUntil: claims.reservedUntil,
        claimedAt: claims.createdAt,
        dealId: deals.id,
        dealTitle: deals.title,
        priceCents: deals.priceCents,
        currency: deals.currency,
        merchantName: merchants.name,
        voucherId: vouchers.id,
        paymentStatus: payments.status,
        paidCents: payments.amountCents,
        // By the database's clock, the one the sweep and payment use: a reservation whose
        // time ran out has ended for its shopper even before the sweep records it.
        lapsed: sql<boolean>`${claims.status} = 'reserved' AND ${claims.reservedUntil} <= now()`,
      })
      .from(claims)
      .innerJoin(deals, eq(deals.id, claims.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .leftJoin(vouchers, eq(vouchers.claimId, claims.id))
      .leftJoin(payments, eq(payments.claimId, claims.id))
      .where(eq(claims.userId, userId))
      .orderBy(desc(claims.createdAt));
    return rows.map(({ paymentStatus, paidCents, lapsed, ...row }) => {
      const claim = { ...row, status: lapsed ? ("expired" as const) : row.status };
      return {
        ...claim,
        payment:
          paymentStatus === null || paidCents === null
            ? null
            : {
                status: shopperPaymentStatus(paymentStatus, claim.status),
                amountCents: paidCents,
                currency: claim.currency,
              },
      };
    });
  }
}

/**
 * A payment as its shopper should read it: money taken for a claim that no longer holds a
 * unit is a refund on its way (CheckoutService.refundOwed), not "paid".
 */
function shopperPaymentStatus(
  status: (typeof payments.$inferSelect)["status"],
  claimStatus: ClaimStatus,
) {
  if (status !== "approved") return status;
  return claimStatus === "cancelled" || claimStatus === "expired" ? "refund_pending" : "paid";
}

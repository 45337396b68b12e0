import "server-only";
import { and, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals, payments } from "@/db/schema";
import { newId } from "@/lib/ids";
import type { ClaimService } from "../claims/claim-service";
import { DomainError } from "../errors";
import { log } from "../log";
import type { VoucherIssuer } from "../vouchers/voucher-issuer";
import { type PaymentProvider, PaymentTimeout, type TestCard } from "./payment-provider";

export type PayResult =
  | { outcome: "PAID"; claimId: string; voucherId: string | null }
  | { outcome: "DECLINED"; claimId: string }
  /** The answer did not come in time: the unit is released; any charge made is refunded. */
  | { outcome: "PAYMENT_UNKNOWN"; claimId: string }
  /** Approved after the reservation had ended: refunded, never turned into an oversell. */
  | { outcome: "EXPIRED_REFUNDED"; claimId: string };

/**
 * The priced-deal saga: reserve (the claim engine) → pay → confirmed and a voucher, or the
 * unit goes back. Every step is conditional on the claim's state in Postgres, so a payment
 * racing the expiry sweep can only end one way, and a retry repeats nothing.
 */
export class CheckoutService {
  constructor(
    private readonly db: Db,
    private readonly provider: PaymentProvider,
    private readonly claimService: ClaimService,
    private readonly issuer: VoucherIssuer,
    private readonly options: { timeoutMs: number; clock: () => Date },
  ) {}

  async pay(userId: string, claimId: string, card: TestCard): Promise<PayResult> {
    const claim = await this.reservation(userId, claimId);
    if (claim.status === "confirmed") {
      const voucher = await this.issuer.issueForClaim(claimId);
      return { outcome: "PAID", claimId, voucherId: voucher?.id ?? null };
    }
    if (claim.status !== "reserved") {
      throw new DomainError(
        "INVALID_STATE",
        `This reservation has ${claim.status === "expired" ? "expired" : "been cancelled"}.`,
      );
    }
    const idempotencyKey = `claim:${claimId}`;
    await this.db
      .insert(payments)
      .values({
        id: newId(),
        claimId,
        provider: this.provider.name,
        idempotencyKey,
        amountCents: claim.priceCents,
        // The service's clock, not the database's now(): settleUnknownPayments compares it
        // with that clock, and the two must agree (a test moves the clock forward).
        createdAt: this.options.clock(),
      })
      .onConflictDoNothing({ target: payments.idempotencyKey });

    let charged: Awaited<ReturnType<PaymentProvider["charge"]>>;
    try {
      charged = await this.provider.charge(
        { idempotencyKey, amountCents: claim.priceCents, currency: claim.currency, card },
        this.options.timeoutMs,
      );
    } catch (error) {
      if (!(error instanceof PaymentTimeout)) throw error;
      // Unknown outcome: give the unit back now; settleUnknownPayments refunds a late charge.
      await this.release(userId, claimId);
      return { outcome: "PAYMENT_UNKNOWN", claimId };
    }
    if (charged.status === "declined") {
      await this.setPayment(idempotencyKey, { status: "declined" });
      await this.release(userId, claimId);
      return { outcome: "DECLINED", claimId };
    }
    await this.setPayment(idempotencyKey, { providerRef: charged.providerRef });
    const now = this.options.clock();
    const [confirmed] = await this.db
      .update(claims)
      .set({ status: "confirmed", updatedAt: now })
      .where(
        and(eq(claims.id, claimId), eq(claims.status, "reserved"), gte(claims.reservedUntil, now)),
      )
      .returning({ id: claims.id });
    if (!confirmed) {
      await this.refund(idempotencyKey, charged.providerRef);
      return { outcome: "EXPIRED_REFUNDED", claimId };
    }
    await this.setPayment(idempotencyKey, { status: "approved" });
    const voucher = await this.issuer.issueForClaim(claimId);
    return { outcome: "PAID", claimId, voucherId: voucher?.id ?? null };
  }

  /**
   * Background step for payments whose answer was lost: asks the provider what happened.
   * A charge whose claim is no longer reserved is refunded; one never made is marked failed.
   */
  async settleUnknownPayments(olderThanMs: number): Promise<number> {
    const cutoff = new Date(this.options.clock().getTime() - olderThanMs);
    const unknown = await this.db
      .select({ key: payments.idempotencyKey, claimStatus: claims.status })
      .from(payments)
      .innerJoin(claims, eq(claims.id, payments.claimId))
      .where(
        and(
          eq(payments.status, "pending"),
          lt(payments.createdAt, cutoff),
          inArray(claims.status, ["cancelled", "expired"]),
        ),
      );
    for (const payment of unknown) {
      const charge = await this.provider.lookup(payment.key);
      if (charge?.status === "approved") await this.refund(payment.key, charge.providerRef);
      else await this.setPayment(payment.key, { status: charge ? "declined" : "failed" });
    }
    return unknown.length;
  }

  /**
   * Refunds the approved payments of claims just cancelled (by their shopper, or with their
   * deal). A refund the provider fails is not lost: the payment stays approved on a cancelled
   * claim, which is what `refundOwed` looks for on every background sweep.
   */
  async refundCancelledClaims(claimIds: string[], reason = "its claim was cancelled") {
    if (claimIds.length === 0) return 0;
    return this.refundEach(
      and(inArray(payments.claimId, claimIds), eq(payments.status, "approved")),
      reason,
    );
  }

  /** Background step: every approved payment whose claim no longer holds a unit is refunded. */
  async refundOwed(): Promise<number> {
    return this.refundEach(
      and(
        eq(payments.status, "approved"),
        inArray(
          payments.claimId,
          this.db
            .select({ id: claims.id })
            .from(claims)
            .where(inArray(claims.status, ["cancelled", "expired"])),
        ),
      ),
      "a refund owed was retried",
    );
  }

  private async refundEach(where: SQL | undefined, reason: string): Promise<number> {
    const owed = await this.db
      .select({ key: payments.idempotencyKey, providerRef: payments.providerRef })
      .from(payments)
      .where(where);
    let refunded = 0;
    for (const payment of owed) {
      if (!payment.providerRef) continue;
      try {
        await this.refund(payment.key, payment.providerRef, reason);
        refunded++;
      } catch (error) {
        log.error({ err: error, idempotencyKey: payment.key }, "refund failed; retried later");
      }
    }
    return refunded;
  }

  /** Gives the reserved unit back, unless the expiry sweep already did. */
  private async release(userId: string, claimId: string) {
    try {
      await this.claimService.cancel(userId, claimId);
    } catch (error) {
      if (!(DomainError.is(error) && error.code === "INVALID_STATE")) throw error;
    }
  }

  private async refund(
    idempotencyKey: string,
    providerRef: string,
    reason = "it arrived after its reservation ended",
  ) {
    await this.provider.refund(providerRef, `refund:${idempotencyKey}`);
    await this.setPayment(idempotencyKey, { status: "refunded", providerRef });
    log.warn({ idempotencyKey }, `payment refunded: ${reason}`);
  }

  private async setPayment(
    idempotencyKey: string,
    change: Partial<Pick<typeof payments.$inferInsert, "status" | "providerRef">>,
  ) {
    await this.db
      .update(payments)
      .set({ ...change, updatedAt: this.options.clock() })
      .where(eq(payments.idempotencyKey, idempotencyKey));
  }

  private async reservation(userId: string, claimId: string) {
    const [row] = await this.db
      .select({
        status: claims.status,
        priceCents: deals.priceCents,
        currency: deals.currency,
      })
      .from(claims)
      .innerJoin(deals, eq(deals.id, claims.dealId))
      .where(and(eq(claims.id, claimId), eq(claims.userId, userId), sql`${deals.priceCents} > 0`));
    if (!row)
      throw new DomainError("NOT_FOUND", "You have no reservation with this id.", { claimId });
    return row;
  }
}

import "server-only";
import { and, eq, gte, inArray, isNull, lt, lte, ne, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals, payments } from "@/db/schema";
import { newId } from "@/lib/ids";
import type { ClaimService } from "../claims/claim-service";
import { DomainError } from "../errors";
import { log } from "../log";
import type { VoucherIssuer } from "../vouchers/voucher-issuer";
import { type PaymentEvent, type PaymentProvider, PaymentTimeout } from "./payment-provider";

/** The longest a payment whose answer was lost waits between two questions to the provider. */
const MAX_LOOKUP_INTERVAL_MS = 60 * 60_000;

export type PayResult =
  | { outcome: "PAID"; claimId: string; voucherId: string | null }
  | { outcome: "DECLINED"; claimId: string }
  /** The answer did not come in time: the unit is released; any charge made is refunded. */
  | { outcome: "PAYMENT_UNKNOWN"; claimId: string }
  /** Approved after the reservation had ended: refunded, never turned into an oversell. */
  | { outcome: "EXPIRED_REFUNDED"; claimId: string };

/**
 * What the saga tells the metrics (server/observability/metrics.ts): each charge's answer,
 * each reservation it confirmed (with the money taken) and each it gave back unpaid.
 */
export type CheckoutEvent =
  | { kind: "charge"; outcome: "approved" | "declined" | "unknown" }
  | { kind: "paid"; amountCents: number; currency: string }
  | { kind: "released" };

/** What a provider's webhook delivery changed. */
export type WebhookOutcome = "confirmed" | "refunded" | "declined" | "unchanged" | "ignored";

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
    private readonly options: {
      timeoutMs: number;
      clock: () => Date;
      observe?: (event: CheckoutEvent) => void;
    },
  ) {}

  /** `paymentMethod` is the provider's opaque token from the browser's payment form. */
  async pay(userId: string, claimId: string, paymentMethod: string): Promise<PayResult> {
    const claim = await this.reservation(userId, claimId);
    if (claim.status === "confirmed") return this.paid(claimId);
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
        { idempotencyKey, amountCents: claim.priceCents, currency: claim.currency, paymentMethod },
        this.options.timeoutMs,
      );
    } catch (error) {
      if (!(error instanceof PaymentTimeout)) throw error;
      this.options.observe?.({ kind: "charge", outcome: "unknown" });
      // Unknown outcome: give the unit back now; settleUnknownPayments refunds a late charge.
      await this.release(userId, claimId);
      // Unless the provider's webhook told of the success first and confirmed the claim.
      if ((await this.claimStatus(claimId)) === "confirmed") return this.paid(claimId);
      return { outcome: "PAYMENT_UNKNOWN", claimId };
    }
    this.options.observe?.({ kind: "charge", outcome: charged.status });
    if (charged.status === "declined") {
      await this.setPayment(idempotencyKey, { status: "declined" });
      await this.release(userId, claimId);
      return { outcome: "DECLINED", claimId };
    }
    if ((await this.settleApproved(claimId, idempotencyKey, charged.providerRef)) === "refunded") {
      return { outcome: "EXPIRED_REFUNDED", claimId };
    }
    return this.paid(claimId);
  }

  private async paid(claimId: string): Promise<PayResult> {
    const voucher = await this.issuer.issueForClaim(claimId);
    return { outcome: "PAID", claimId, voucherId: voucher?.id ?? null };
  }

  /**
   * A provider's verified webhook delivery (server/payments/payment-webhook.ts). A success
   * confirms the reservation only while it is still held, and is refunded otherwise, exactly
   * as a late answer to `pay` is; a delivery Stripe repeats finds its work done.
   */
  async settleWebhookEvent(event: PaymentEvent): Promise<WebhookOutcome> {
    if (event.kind === "ignored") return "ignored";
    const [payment] = await this.db
      .select({
        claimId: payments.claimId,
        status: payments.status,
        amountCents: payments.amountCents,
      })
      .from(payments)
      .where(
        and(
          eq(payments.idempotencyKey, event.idempotencyKey),
          eq(payments.provider, this.provider.name),
        ),
      );
    // Another application on the same account, or a key from before this database.
    if (!payment) return "ignored";
    if (event.kind === "failed") {
      if (payment.status !== "pending") return "unchanged";
      await this.setPayment(event.idempotencyKey, { status: "declined" });
      return "declined";
    }
    if (payment.status === "refunded") return "unchanged";
    if (event.amountCents !== payment.amountCents) {
      // Never a unit for the wrong amount: give the money back and say so.
      log.error({ idempotencyKey: event.idempotencyKey }, "a charge of another amount: refunded");
      await this.setPayment(event.idempotencyKey, { providerRef: event.providerRef });
      await this.refund(event.idempotencyKey, event.providerRef, "its amount was not the price");
      return "refunded";
    }
    const settled = await this.settleApproved(
      payment.claimId,
      event.idempotencyKey,
      event.providerRef,
    );
    if (settled === "refunded") return "refunded";
    if (payment.status === "approved") return "unchanged";
    await this.issuer.issueForClaim(payment.claimId);
    return "confirmed";
  }

  /**
   * An approved charge: the claim is confirmed if its reservation still holds, or was
   * confirmed already (by `pay` or the webhook, whichever came first); otherwise the charge
   * arrived too late and is refunded, never turned into an oversell.
   */
  private async settleApproved(
    claimId: string,
    idempotencyKey: string,
    providerRef: string,
  ): Promise<"confirmed" | "refunded"> {
    await this.setPayment(idempotencyKey, { providerRef });
    const now = this.options.clock();
    const [confirmed] = await this.db
      .update(claims)
      .set({ status: "confirmed", updatedAt: now })
      .where(
        and(eq(claims.id, claimId), eq(claims.status, "reserved"), gte(claims.reservedUntil, now)),
      )
      .returning({ id: claims.id });
    if (!confirmed) {
      if ((await this.claimStatus(claimId)) !== "confirmed") {
        await this.refund(idempotencyKey, providerRef);
        return "refunded";
      }
    } else if (this.options.observe) {
      // This call confirmed it (a repeated webhook or a late pay finds it confirmed already).
      const [taken] = await this.db
        .select({ amountCents: payments.amountCents, currency: deals.currency })
        .from(payments)
        .innerJoin(claims, eq(claims.id, payments.claimId))
        .innerJoin(deals, eq(deals.id, claims.dealId))
        .where(eq(payments.idempotencyKey, idempotencyKey));
      if (taken) this.options.observe({ kind: "paid", ...taken });
    }
    // A payment refunded meanwhile (its claim cancelled) stays refunded.
    await this.db
      .update(payments)
      .set({ status: "approved", updatedAt: now })
      .where(and(eq(payments.idempotencyKey, idempotencyKey), ne(payments.status, "refunded")));
    return "confirmed";
  }

  /**
   * Background step for payments whose answer was lost, their unit already given back: asks
   * the provider what became of each. A charge found is recorded as approved and refunded; a
   * refund that fails leaves it approved on a released claim, which `refundOwed` pays.
   *
   * "No record" is not proof that no charge will come: the request may still be on its way
   * through the provider, or (Stripe) its search has not indexed it yet. So such a payment stays
   * pending and is asked about again, less often as it ages (after half its age, between
   * `olderThanMs` and an hour), until the provider's idempotency window has passed since it was
   * created. Only then can no request with its key still become a charge, and a last "no
   * record" marks it failed. A charge still processing is asked about for as long as it is.
   */
  async settleUnknownPayments(olderThanMs: number): Promise<number> {
    const now = this.options.clock();
    const unknown = await this.db
      .select({ key: payments.idempotencyKey, createdAt: payments.createdAt })
      .from(payments)
      .innerJoin(claims, eq(claims.id, payments.claimId))
      .where(
        and(
          eq(payments.status, "pending"),
          eq(payments.provider, this.provider.name),
          lt(payments.createdAt, new Date(now.getTime() - olderThanMs)),
          or(isNull(payments.nextLookupAt), lte(payments.nextLookupAt, now)),
          inArray(claims.status, ["cancelled", "expired"]),
        ),
      );
    let settled = 0;
    for (const payment of unknown) {
      try {
        const charge = await this.provider.lookup(payment.key);
        const deadline = payment.createdAt.getTime() + this.provider.idempotencyWindowMs;
        if (charge?.status === "processing" || (!charge && now.getTime() < deadline)) {
          await this.lookUpAgain(payment.key, payment.createdAt, now, olderThanMs, deadline);
          continue;
        }
        if (charge?.status === "approved") {
          // Owed from here on: a webhook that refunded it first keeps it refunded.
          await this.db
            .update(payments)
            .set({ status: "approved", providerRef: charge.providerRef, updatedAt: now })
            .where(and(eq(payments.idempotencyKey, payment.key), eq(payments.status, "pending")));
          await this.refund(payment.key, charge.providerRef, "it landed after its answer was lost");
        } else {
          await this.setPayment(payment.key, { status: charge ? "declined" : "failed" });
        }
        settled++;
      } catch (error) {
        log.error(
          { err: error, idempotencyKey: payment.key },
          "settling a payment whose answer was lost failed; retried later",
        );
      }
    }
    return settled;
  }

  /** When to ask the provider about a pending payment next: see `settleUnknownPayments`. */
  private async lookUpAgain(
    idempotencyKey: string,
    createdAt: Date,
    now: Date,
    minIntervalMs: number,
    deadline: number,
  ) {
    const age = now.getTime() - createdAt.getTime();
    const interval = Math.min(Math.max(age / 2, minIntervalMs), MAX_LOOKUP_INTERVAL_MS);
    // The last question is asked at the deadline, not an interval past it.
    const next =
      now.getTime() < deadline
        ? Math.min(now.getTime() + interval, deadline)
        : now.getTime() + interval;
    await this.db
      .update(payments)
      .set({ nextLookupAt: new Date(next), updatedAt: now })
      .where(and(eq(payments.idempotencyKey, idempotencyKey), eq(payments.status, "pending")));
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
      .where(and(where, eq(payments.provider, this.provider.name)));
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

  private async claimStatus(claimId: string) {
    const [claim] = await this.db
      .select({ status: claims.status })
      .from(claims)
      .where(eq(claims.id, claimId));
    return claim?.status;
  }

  /** Gives the reserved unit back, unless the expiry sweep or a webhook settled it first. */
  private async release(userId: string, claimId: string) {
    try {
      await this.claimService.cancel(userId, claimId, { reservedOnly: true });
      this.options.observe?.({ kind: "released" });
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

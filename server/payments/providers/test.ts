import "server-only";
import { newId } from "@/lib/ids";
import {
  type ChargeLookup,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  PaymentTimeout,
} from "../payment-provider";

/**
 * The test cards, by the token the test form sends. They live here alone: the browser's form
 * lists what `formSettings` gives it, and no other part of Dealdrop knows what a token means.
 */
const TEST_CARDS = {
  approve: "Test card: approved",
  decline: "Test card: declined",
  slow: "Test card: answers too slowly",
  lost: "Test card: answer lost",
} as const;

type TestCard = keyof typeof TEST_CARDS;

const isTestCard = (token: string): token is TestCard => Object.hasOwn(TEST_CARDS, token);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface StoredCharge {
  result: ChargeResult;
  refunded: boolean;
}

/**
 * The built-in provider for embedded mode, demos and tests; never production (server/env.ts,
 * `isProductionWithoutDemo`). The card decides: `approve`, `decline`, `slow` (approves after
 * `slowMs`, often past the caller's timeout, and lookups find nothing until then) and `lost`
 * (approves, but the answer never arrives); any other token is declined, as a processor
 * declines a card it does not know. It remembers charges by idempotency key, as a real
 * provider does, and claims Stripe's idempotency window.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = "test";
  readonly formSettings = {
    cards: Object.entries(TEST_CARDS).map(([token, label]) => ({ token, label })),
  };
  readonly idempotencyWindowMs = 24 * 3_600_000;
  /** While set, every refund fails, as during a provider outage (tests and demos). */
  refundOutage = false;
  private readonly charges = new Map<string, StoredCharge>();
  /** Slow charges still on their way, by idempotency key: each lands when its timer fires. */
  private readonly inFlight = new Map<string, { land: () => void; timer: NodeJS.Timeout }>();
  /** Refunds made, by their idempotency key. */
  private readonly refundCalls = new Map<string, number>();
  private readonly lookupCalls = new Map<string, number>();

  constructor(private readonly slowMs = 3_000) {}

  async charge(request: ChargeRequest, timeoutMs: number): Promise<ChargeResult> {
    const known = this.charges.get(request.idempotencyKey);
    if (known) return known.result;
    const card = isTestCard(request.paymentMethod) ? request.paymentMethod : "decline";
    const result: ChargeResult =
      card === "decline"
        ? { status: "declined" }
        : { status: "approved", providerRef: `test_${newId()}` };
    if (card === "lost") {
      this.charges.set(request.idempotencyKey, { result, refunded: false });
      throw new PaymentTimeout();
    }
    if (card === "slow") {
      if (this.slowMs > timeoutMs) {
        // The charge goes through later, after the caller has given up waiting.
        const key = request.idempotencyKey;
        const land = () => {
          this.inFlight.delete(key);
          this.charges.set(key, { result, refunded: false });
        };
        this.inFlight.set(key, { land, timer: setTimeout(land, this.slowMs).unref() });
        await sleep(timeoutMs);
        throw new PaymentTimeout();
      }
      await sleep(this.slowMs);
    }
    this.charges.set(request.idempotencyKey, { result, refunded: false });
    return result;
  }

  async lookup(idempotencyKey: string): Promise<ChargeLookup> {
    this.lookupCalls.set(idempotencyKey, (this.lookupCalls.get(idempotencyKey) ?? 0) + 1);
    return this.charges.get(idempotencyKey)?.result ?? null;
  }

  async refund(providerRef: string, idempotencyKey: string): Promise<void> {
    if (this.refundOutage) throw new Error("the test provider is refusing refunds (outage)");
    this.refundCalls.set(idempotencyKey, (this.refundCalls.get(idempotencyKey) ?? 0) + 1);
    for (const charge of this.charges.values()) {
      if (charge.result.status === "approved" && charge.result.providerRef === providerRef) {
        charge.refunded = true;
      }
    }
  }

  /** For tests: every slow charge still on its way lands now, as if its time had come. */
  landSlowCharges(): void {
    for (const { land, timer } of [...this.inFlight.values()]) {
      clearTimeout(timer);
      land();
    }
  }

  /** For tests: how often the charge with this key was looked up. */
  lookupsOf(idempotencyKey: string): number {
    return this.lookupCalls.get(idempotencyKey) ?? 0;
  }

  /** For tests: how many refunds of the charge with this key the provider made. */
  refundsOf(chargeKey: string): number {
    return this.refundCalls.get(`refund:${chargeKey}`) ?? 0;
  }

  /** For tests: whether the charge with this key was refunded. */
  wasRefunded(idempotencyKey: string): boolean {
    return this.charges.get(idempotencyKey)?.refunded ?? false;
  }
}

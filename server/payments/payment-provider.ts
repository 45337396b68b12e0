import "server-only";

export interface ChargeRequest {
  /** The same key always means the same charge: a retry never charges twice. */
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  /**
   * What the shopper paid with, as the provider's own form in the browser made it (a Stripe
   * PaymentMethod id, say). Opaque to Dealdrop: only the provider reads it, so the browser
   * can name a card but never an outcome.
   */
  paymentMethod: string;
}

export type ChargeResult = { status: "approved"; providerRef: string } | { status: "declined" };

/** What a lookup found: a charge the provider is still working on is neither yet. */
export type ChargeLookup = ChargeResult | { status: "processing" } | null;

/** Thrown when the provider's answer did not arrive in time: the charge may or may not exist. */
export class PaymentTimeout extends Error {
  constructor() {
    super("the payment provider did not answer in time");
    this.name = "PaymentTimeout";
  }
}

/** A provider's report of what became of a charge, read from a verified webhook delivery. */
export type PaymentEvent =
  | { kind: "succeeded"; idempotencyKey: string; providerRef: string; amountCents: number }
  | { kind: "failed"; idempotencyKey: string }
  /** Verified, but about something Dealdrop does not act on (another event type, another app). */
  | { kind: "ignored"; type: string };

/** A webhook delivery that is not the provider's: bad or missing signature, or no event. */
export class WebhookRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookRejected";
  }
}

/**
 * A card processor as Dealdrop uses one (DESIGN, Payments). Every call is idempotent by key.
 * A provider is one file in ./providers and one line in ./providers/registry.ts; the browser
 * draws its form from `app/(shop)/_payment-forms`, keyed by `name`.
 */
export interface PaymentProvider {
  readonly name: string;
  /** What the browser's payment form needs to draw itself: public values only, never a secret. */
  readonly formSettings: Record<string, unknown>;
  /**
   * How long the provider remembers an idempotency key. Past it, no request with the key can
   * still become a charge nobody knows of: a charge it has no record of by then was never made.
   */
  readonly idempotencyWindowMs: number;
  charge(request: ChargeRequest, timeoutMs: number): Promise<ChargeResult>;
  /** What became of a charge whose answer was lost; null if the provider never saw it. */
  lookup(idempotencyKey: string): Promise<ChargeLookup>;
  refund(providerRef: string, idempotencyKey: string): Promise<void>;
  /**
   * For a provider that reports outcomes by webhook (POST /api/payments/<name>/webhook): the
   * request header that carries the signature, and a reader that verifies the raw body with it
   * and throws WebhookRejected when it does not verify.
   */
  readonly webhook?: {
    signatureHeader: string;
    read(rawBody: Buffer, signature: string | undefined): PaymentEvent;
  };
}

import "server-only";
import Stripe from "stripe";
import type { Env } from "../../env";
import { DomainError } from "../../errors";
import { log } from "../../log";
import {
  type ChargeLookup,
  type ChargeRequest,
  type ChargeResult,
  type PaymentEvent,
  type PaymentProvider,
  PaymentTimeout,
  WebhookRejected,
} from "../payment-provider";

/** The PaymentIntent metadata field that carries Dealdrop's idempotency key: lookups search it. */
const KEY_FIELD = "dealdrop_payment";

export interface StripeSettings {
  secretKey: string;
  publishableKey: string;
  webhookSecret: string;
  /** Where the API is when it is not Stripe's own (tests point it at a loopback recorder). */
  api?: { host: string; port: number; protocol: "http" | "https" };
}

/**
 * Payments through Stripe's official SDK. The browser's Stripe form turns a card into a
 * PaymentMethod (`pm_…`), and only that id reaches Dealdrop. A charge is a PaymentIntent
 * created and confirmed in one call, keyed by the claim, so a retry finds the same one.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = "stripe";
  readonly formSettings: { publishableKey: string };
  /** Stripe removes idempotency keys once they are at least 24 hours old. */
  readonly idempotencyWindowMs = 24 * 3_600_000;
  readonly webhook = {
    signatureHeader: "stripe-signature",
    read: (rawBody: Buffer, signature: string | undefined) => this.readEvent(rawBody, signature),
  };
  private readonly stripe: Stripe;

  constructor(private readonly settings: StripeSettings) {
    this.formSettings = { publishableKey: settings.publishableKey };
    this.stripe = new Stripe(settings.secretKey, {
      // Every request carries an idempotency key, so the SDK's retries never repeat a charge.
      maxNetworkRetries: 2,
      telemetry: false,
      appInfo: { name: "Dealdrop" },
      ...settings.api,
    });
  }

  async charge(request: ChargeRequest, timeoutMs: number): Promise<ChargeResult> {
    let intent: Stripe.PaymentIntent;
    try {
      intent = await this.stripe.paymentIntents.create(
        {
          amount: request.amountCents,
          currency: request.currency.toLowerCase(),
          payment_method: request.paymentMethod,
          confirm: true,
          // Confirmed on the server with no page to return to: a card that asks for 3-D Secure
          // fails here rather than waiting for an action nobody will take.
          error_on_requires_action: true,
          automatic_payment_methods: { enabled: true, allow_redirects: "never" },
          metadata: { [KEY_FIELD]: request.idempotencyKey },
        },
        // The saga's deadline is the whole budget: no retries that would outlast it.
        { idempotencyKey: request.idempotencyKey, timeout: timeoutMs, maxNetworkRetries: 0 },
      );
    } catch (error) {
      return refusalOf(error);
    }
    const outcome = outcomeOf(intent);
    if (outcome.status === "processing") throw new PaymentTimeout();
    return outcome;
  }

  /**
   * Finds the PaymentIntent by the key in its metadata. Stripe's search is eventually
   * consistent (usually under a minute): a charge it has not indexed yet reads as none, so the
   * saga asks again until the idempotency window has passed (settleUnknownPayments), and the
   * `payment_intent.succeeded` webhook, which Stripe retries for days, refunds it too.
   */
  async lookup(idempotencyKey: string): Promise<ChargeLookup> {
    const found = await this.stripe.paymentIntents.search({
      query: `metadata['${KEY_FIELD}']:'${idempotencyKey.replace(/['\\]/g, "\\$&")}'`,
    });
    const outcomes = found.data.map(outcomeOf);
    return (
      outcomes.find((outcome) => outcome.status === "approved") ??
      outcomes.find((outcome) => outcome.status === "processing") ??
      outcomes[0] ??
      null
    );
  }

  async refund(providerRef: string, idempotencyKey: string): Promise<void> {
    try {
      await this.stripe.refunds.create(
        { payment_intent: providerRef, metadata: { [KEY_FIELD]: idempotencyKey } },
        { idempotencyKey },
      );
    } catch (error) {
      // Stripe forgets idempotency keys after a day; a refund retried later finds it done.
      if (error instanceof Stripe.errors.StripeError && error.code === "charge_already_refunded") {
        return;
      }
      throw error;
    }
  }

  private readEvent(rawBody: Buffer, signature: string | undefined): PaymentEvent {
    if (!signature) throw new WebhookRejected("The Stripe-Signature header is missing.");
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.settings.webhookSecret);
    } catch {
      throw new WebhookRejected(
        "The Stripe-Signature header does not match this body for this endpoint's secret.",
      );
    }
    if (event.type !== "payment_intent.succeeded" && event.type !== "payment_intent.payment_failed")
      return { kind: "ignored", type: event.type };
    const intent = event.data.object;
    const idempotencyKey = intent.metadata?.[KEY_FIELD];
    if (!idempotencyKey) return { kind: "ignored", type: event.type };
    return event.type === "payment_intent.succeeded"
      ? { kind: "succeeded", idempotencyKey, providerRef: intent.id, amountCents: intent.amount }
      : { kind: "failed", idempotencyKey };
  }
}

function outcomeOf(intent: Stripe.PaymentIntent): ChargeResult | { status: "processing" } {
  if (intent.status === "succeeded") return { status: "approved", providerRef: intent.id };
  if (intent.status === "processing") return { status: "processing" };
  // requires_payment_method (declined), canceled, or an action no one can take: no money moved.
  return { status: "declined" };
}

/** What a failed create means for the saga: declined, unknown (a timeout), or try again. */
function refusalOf(error: unknown): ChargeResult {
  if (!(error instanceof Stripe.errors.StripeError)) throw error;
  if (error instanceof Stripe.errors.StripeCardError) return { status: "declined" };
  // A token Stripe does not know, or cannot charge: the browser's to fix, and no money moved.
  if (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    (error.param?.startsWith("payment_method") || error.code === "payment_intent_unexpected_state")
  ) {
    return { status: "declined" };
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError || error.statusCode === 409) {
    throw new DomainError("INVALID_STATE", "This reservation is already being paid for.");
  }
  // The request may have been carried out: the saga releases the unit and settles it later.
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError
  ) {
    throw new PaymentTimeout();
  }
  // Refused before it ran (rate limit, a key Stripe rejects, a bad request of ours).
  log.error({ err: error, stripeRequestId: error.requestId }, "Stripe refused a charge request");
  throw new DomainError(
    "UNAVAILABLE",
    "Payments are unavailable at the moment: try again in a minute.",
    { retryAfterMs: 60_000 },
  );
}

export function createStripeProvider(env: Env): StripePaymentProvider {
  const { STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET } = env;
  // parseEnv has already refused a stripe start without these; this is for the typecheck.
  if (!STRIPE_SECRET_KEY || !STRIPE_PUBLISHABLE_KEY || !STRIPE_WEBHOOK_SECRET) {
    throw new Error("PAYMENT_PROVIDER=stripe needs its three STRIPE_ keys");
  }
  return new StripePaymentProvider({
    secretKey: STRIPE_SECRET_KEY,
    publishableKey: STRIPE_PUBLISHABLE_KEY,
    webhookSecret: STRIPE_WEBHOOK_SECRET,
    api: env.STRIPE_API_URL ? apiAddress(new URL(env.STRIPE_API_URL)) : undefined,
  });
}

function apiAddress(url: URL): StripeSettings["api"] {
  const protocol = url.protocol === "http:" ? "http" : "https";
  return {
    host: url.hostname,
    port: Number(url.port || (protocol === "http" ? 80 : 443)),
    protocol,
  };
}

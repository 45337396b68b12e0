import "server-only";
import type { CheckoutService, WebhookOutcome } from "./checkout-service";
import { type PaymentProvider, WebhookRejected } from "./payment-provider";

/**
 * One webhook delivery from the configured provider: the raw body exactly as it arrived (the
 * signature covers its bytes) and the provider's signature header. The provider verifies it;
 * the saga acts on it (a success confirms a reservation still held, and is refunded if it is
 * not). Throws WebhookRejected, having changed nothing, when the delivery does not verify.
 */
export async function receivePaymentWebhook(
  payments: { provider: PaymentProvider; checkout: CheckoutService },
  rawBody: Buffer,
  signature: string | undefined,
): Promise<WebhookOutcome> {
  const { webhook } = payments.provider;
  if (!webhook) {
    throw new WebhookRejected(`The ${payments.provider.name} payment provider has no webhook.`);
  }
  return payments.checkout.settleWebhookEvent(webhook.read(rawBody, signature));
}

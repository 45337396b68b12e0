/**
 * The payment settings a production-mode process started by a test or a bench needs: the
 * test provider is refused there (server/env.ts, isProductionWithoutDemo). Nothing in those
 * runs pays, so these keys never reach Stripe.
 */
export const UNUSED_STRIPE_ENV = {
  PAYMENT_PROVIDER: "stripe",
  STRIPE_SECRET_KEY: "sk_test_unused",
  STRIPE_PUBLISHABLE_KEY: "pk_test_unused",
  STRIPE_WEBHOOK_SECRET: "whsec_unused",
} as const;

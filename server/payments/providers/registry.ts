import "server-only";
import type { Env } from "../../env";
import type { PaymentProvider } from "../payment-provider";
import { createStripeProvider } from "./stripe";
import { TestPaymentProvider } from "./test";

/**
 * Every payment provider, by the name PAYMENT_PROVIDER gives it (server/env.ts). A provider
 * is one file beside this one and one line here; its form in the browser is one component in
 * app/(shop)/_payment-forms. The typecheck asks for a line for each name env.ts accepts.
 */
export const PAYMENT_PROVIDERS = {
  test: (env) => new TestPaymentProvider(env.TEST_PAYMENT_SLOW_MS),
  stripe: (env) => createStripeProvider(env),
} satisfies Record<Env["PAYMENT_PROVIDER"], (env: Env) => PaymentProvider>;

export function createPaymentProvider(env: Env): PaymentProvider {
  return PAYMENT_PROVIDERS[env.PAYMENT_PROVIDER](env);
}

import type { ComponentType } from "react";
import type { PaymentFormProps } from "./payment-form";
import { StripeCardForm } from "./stripe-card-form";
import { TestCardForm } from "./test-card-form";

/**
 * The payment form of each provider, by the provider's name (PAYMENT_PROVIDER): one line
 * per provider that needs a form in the browser. server/payments/providers has the other half.
 */
export const PAYMENT_FORMS: Record<string, ComponentType<PaymentFormProps>> = {
  test: TestCardForm,
  stripe: StripeCardForm,
};

"use client";

import { useState } from "react";
import { z } from "zod";
import { PayActions, type PaymentFormProps } from "./payment-form";

const settingsSchema = z.object({ publishableKey: z.string() });

/**
 * PLACEHOLDER for Stripe's card form. The real one is Stripe Elements: Stripe.js, which Stripe
 * requires to be loaded from js.stripe.com in the shopper's browser (it cannot be bundled),
 * mounts the card field with the publishable key and makes the PaymentMethod id (`pm_…`) this
 * form would hand to `onPay`. Nothing here loads Stripe.js yet (the machine this was built on
 * reaches no outside network). With a test-mode key, a developer can type one of Stripe's
 * test PaymentMethod ids (pm_card_visa, pm_card_chargeDeclined) to try the server side.
 */
export function StripeCardForm(props: PaymentFormProps) {
  const settings = settingsSchema.safeParse(props.settings);
  const [paymentMethod, setPaymentMethod] = useState("");
  const testMode = settings.success && settings.data.publishableKey.startsWith("pk_test_");
  return (
    <>
      <p className="muted" data-testid="stripe-form-placeholder">
        Card payments by Stripe. This page does not load Stripe.js yet, so it cannot take a card:
        Stripe&rsquo;s card form (Stripe Elements) has to be added here.
      </p>
      {testMode && (
        <label className="reservation-card">
          Stripe test PaymentMethod id
          <input
            value={paymentMethod}
            placeholder="pm_card_visa"
            onChange={(event) => setPaymentMethod(event.currentTarget.value.trim())}
          />
        </label>
      )}
      <PayActions
        price={props.price}
        busy={props.busy}
        disabled={!testMode || paymentMethod === ""}
        onPay={() => props.onPay(paymentMethod)}
      >
        {props.children}
      </PayActions>
    </>
  );
}

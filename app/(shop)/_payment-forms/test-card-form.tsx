"use client";

import { useState } from "react";
import { z } from "zod";
import { PayActions, type PaymentFormProps } from "./payment-form";

const settingsSchema = z.object({
  cards: z.array(z.object({ token: z.string(), label: z.string() })).min(1),
});

/** The test provider's form: a choice of the test cards the server lists, and no card data. */
export function TestCardForm(props: PaymentFormProps) {
  const settings = settingsSchema.safeParse(props.settings);
  const cards = settings.success ? settings.data.cards : [];
  const [card, setCard] = useState(cards[0]?.token ?? "");
  if (!settings.success) {
    return (
      <p className="error" role="alert">
        The test payment form did not get its cards from the server.
      </p>
    );
  }
  return (
    <>
      <label className="reservation-card">
        Card
        <select value={card} onChange={(event) => setCard(event.currentTarget.value)}>
          {cards.map((option) => (
            <option key={option.token} value={option.token}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
      <PayActions price={props.price} busy={props.busy} onPay={() => props.onPay(card)}>
        {props.children}
      </PayActions>
    </>
  );
}

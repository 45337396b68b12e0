import type { ReactNode } from "react";

/**
 * What every provider's payment form is given. The form turns what the shopper enters into
 * the provider's opaque token and hands it to `onPay`; the server charges that token.
 */
export interface PaymentFormProps {
  /** The provider's public settings as the server sent them (claims.paymentForm). */
  settings: Record<string, unknown>;
  price: string;
  busy: boolean;
  onPay(paymentMethod: string): void;
  /** Shown beside the form's pay button (the reservation's cancel button). */
  children?: ReactNode;
}

/** A form's pay button, with what the panel puts beside it. */
export function PayActions(props: {
  price: string;
  busy: boolean;
  disabled?: boolean;
  onPay(): void;
  children?: ReactNode;
}) {
  return (
    <div className="reservation-actions">
      <button
        type="button"
        className="button"
        disabled={props.busy || props.disabled}
        onClick={props.onPay}
      >
        {props.busy ? "Paying…" : `Pay ${props.price}`}
      </button>
      {props.children}
    </div>
  );
}

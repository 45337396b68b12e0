"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";
import type { PaymentFormSpec } from "@/lib/payments/pay-input";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { PAYMENT_FORMS } from "./_payment-forms/registry";

/** How a reservation ended, for the claim button's one status line. */
export type ReservationEnd =
  | { outcome: "PAID"; voucherId: string | null }
  | { outcome: "DECLINED" | "PAYMENT_UNKNOWN" | "EXPIRED_REFUNDED" | "CANCELLED" | "EXPIRED" };

/** What the shopper reads when a reservation ends, and whether they may claim again. */
export const RESERVATION_ENDS = {
  PAID: { says: "Paid. Your voucher is ready.", claimAgain: false },
  DECLINED: {
    says: "Payment declined. The unit went back on sale. Claim again to pay with another card.",
    claimAgain: true,
  },
  PAYMENT_UNKNOWN: {
    says: "The payment could not be confirmed in time, so the reservation was released. If you were charged, it is refunded automatically.",
    claimAgain: true,
  },
  EXPIRED_REFUNDED: {
    says: "Your reservation had already expired, so the payment was refunded.",
    claimAgain: true,
  },
  CANCELLED: { says: "Reservation cancelled. The unit went back on sale.", claimAgain: true },
  EXPIRED: {
    says: "Your reservation expired and the unit went back on sale.",
    claimAgain: true,
  },
} as const satisfies Record<ReservationEnd["outcome"], { says: string; claimAgain: boolean }>;

function useSecondsLeft(until: Date) {
  const [left, setLeft] = useState(() =>
    Math.max(0, Math.ceil((until.getTime() - Date.now()) / 1_000)),
  );
  useEffect(() => {
    const timer = setInterval(
      () => setLeft(Math.max(0, Math.ceil((until.getTime() - Date.now()) / 1_000))),
      1_000,
    );
    return () => clearInterval(timer);
  }, [until]);
  return left;
}

/**
 * A priced claim held for payment: a countdown, the provider's payment form, or let it go.
 * How it ends goes to `onEnd`; the claim button says it, in its one status line.
 */
export function ReservationPanel(props: {
  claimId: string;
  reservedUntil: Date;
  price: string;
  onEnd: (end: ReservationEnd) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const form = useQuery(trpc.claims.paymentForm.queryOptions(undefined, { staleTime: Infinity }));
  const left = useSecondsLeft(props.reservedUntil);
  const { onEnd } = props;
  const pay = useMutation(
    trpc.claims.pay.mutationOptions({
      onSuccess: (answer) => {
        queryClient.invalidateQueries();
        onEnd(answer.outcome === "PAID" ? answer : { outcome: answer.outcome });
      },
    }),
  );
  const cancel = useMutation(
    trpc.claims.cancel.mutationOptions({
      onSuccess: () => {
        queryClient.invalidateQueries();
        onEnd({ outcome: "CANCELLED" });
      },
    }),
  );
  const expired = left === 0;
  useEffect(() => {
    if (expired) onEnd({ outcome: "EXPIRED" });
  }, [expired, onEnd]);

  if (expired) return null;
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, "0");
  return (
    <div className="reservation" data-testid="reservation">
      <p>
        Reserved for you for{" "}
        <strong data-testid="reservation-countdown" aria-live="off">
          {minutes}:{seconds}
        </strong>
        . Pay {props.price} to get the voucher.
      </p>
      <PaymentForm
        spec={form.data}
        failed={form.isError}
        price={props.price}
        busy={pay.isPending || cancel.isPending}
        onPay={(paymentMethod) => pay.mutate({ claimId: props.claimId, paymentMethod })}
      >
        <button
          type="button"
          className="link-button"
          disabled={pay.isPending || cancel.isPending}
          onClick={() => cancel.mutate({ claimId: props.claimId })}
        >
          Cancel reservation
        </button>
      </PaymentForm>
      {(pay.isError || cancel.isError) && (
        <p className="error" role="alert">
          {apiErrorMessage(pay.error ?? cancel.error)}
        </p>
      )}
    </div>
  );
}

/** The configured provider's form (app/(shop)/_payment-forms), once the server has named it. */
function PaymentForm(props: {
  spec: PaymentFormSpec | undefined;
  failed: boolean;
  price: string;
  busy: boolean;
  onPay(paymentMethod: string): void;
  children: ReactNode;
}) {
  const Form = props.spec && PAYMENT_FORMS[props.spec.provider];
  if (props.spec && Form) {
    return (
      <Form
        settings={props.spec.settings}
        price={props.price}
        busy={props.busy}
        onPay={props.onPay}
      >
        {props.children}
      </Form>
    );
  }
  return (
    <>
      <p className={props.spec || props.failed ? "error" : "muted"} role="status">
        {props.spec
          ? "This shop takes payments in a way this page cannot show yet."
          : props.failed
            ? "The payment form could not be loaded: try again in a moment."
            : "Loading the payment form…"}
      </p>
      <div className="reservation-actions">{props.children}</div>
    </>
  );
}

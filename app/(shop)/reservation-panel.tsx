"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type ReactNode, useEffect, useState } from "react";
import type { PaymentFormSpec } from "@/lib/payments/pay-input";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { PAYMENT_FORMS } from "./_payment-forms/registry";

const OUTCOMES = {
  DECLINED: "Payment declined. The unit went back on sale.",
  PAYMENT_UNKNOWN:
    "The payment could not be confirmed in time, so the reservation was released. If you were charged, it is refunded automatically.",
  EXPIRED_REFUNDED: "Your reservation had already expired, so the payment was refunded.",
} as const;

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

/** A priced claim held for payment: a countdown, the provider's payment form, or let it go. */
export function ReservationPanel(props: { claimId: string; reservedUntil: Date; price: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const form = useQuery(trpc.claims.paymentForm.queryOptions(undefined, { staleTime: Infinity }));
  const left = useSecondsLeft(props.reservedUntil);
  const done = { onSuccess: () => queryClient.invalidateQueries() };
  const pay = useMutation(trpc.claims.pay.mutationOptions(done));
  const cancel = useMutation(trpc.claims.cancel.mutationOptions(done));

  const answer = pay.data;
  if (answer?.outcome === "PAID") {
    return (
      <div className="reservation" role="status">
        <p className="result-won">Paid. Your voucher is ready.</p>
        {answer.voucherId && (
          <Link className="button" href={`/vouchers/${answer.voucherId}`}>
            Show my voucher
          </Link>
        )}
      </div>
    );
  }
  if (answer)
    return (
      <p className="reservation error" role="status">
        {OUTCOMES[answer.outcome]}
      </p>
    );
  if (cancel.isSuccess) {
    return (
      <p className="reservation muted" role="status">
        Reservation cancelled. The unit went back on sale.
      </p>
    );
  }
  if (left === 0) {
    return (
      <p className="reservation error" role="status" data-testid="reservation-expired">
        Your reservation expired and the unit went back on sale.
      </p>
    );
  }
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

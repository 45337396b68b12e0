"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { useTRPC } from "@/lib/trpc/client";

const CARDS = [
  { value: "approve", label: "Test card: approved" },
  { value: "decline", label: "Test card: declined" },
  { value: "slow", label: "Test card: answers too slowly" },
  { value: "lost", label: "Test card: answer lost" },
] as const;

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

/** A priced claim held for payment: a countdown, pay with a test card, or let it go. */
export function ReservationPanel(props: { claimId: string; reservedUntil: Date; price: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [card, setCard] = useState<(typeof CARDS)[number]["value"]>("approve");
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
      <label className="reservation-card">
        Card
        <select
          value={card}
          onChange={(event) => setCard(event.currentTarget.value as typeof card)}
        >
          {CARDS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
      <div className="reservation-actions">
        <button
          type="button"
          className="button"
          disabled={pay.isPending || cancel.isPending}
          onClick={() => pay.mutate({ claimId: props.claimId, card })}
        >
          {pay.isPending ? "Paying…" : `Pay ${props.price}`}
        </button>
        <button
          type="button"
          className="link-button"
          disabled={pay.isPending || cancel.isPending}
          onClick={() => cancel.mutate({ claimId: props.claimId })}
        >
          Cancel reservation
        </button>
      </div>
      {(pay.isError || cancel.isError) && (
        <p className="error" role="alert">
          {pay.error?.message ?? cancel.error?.message}
        </p>
      )}
    </div>
  );
}

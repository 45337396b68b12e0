"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { DealPhase } from "@/lib/deals/deal-rules";
import { useTRPC } from "@/lib/trpc/client";
import { readApiError } from "@/lib/wire/read-api-error";
import "./deal-form.css";

/** Cancels a deal after the person confirms what it does to shoppers. */
export function CancelDeal({
  dealId,
  phase,
  sold,
}: {
  dealId: string;
  phase: DealPhase;
  sold: number;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState("");
  const cancel = useMutation(
    trpc.sales.cancel.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.sales.pathKey() }),
    }),
  );

  if (cancel.data) {
    const n = cancel.data.claimsCancelled;
    return (
      <p role="status">
        The deal is cancelled. {n === 1 ? "1 claim was" : `${n} claims were`} cancelled: their
        vouchers are revoked and payments refunded.
      </p>
    );
  }
  if (phase === "cancelled") return <p className="muted">This deal was cancelled.</p>;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    cancel.mutate({ dealId, reason });
  }

  const reasonErrors = cancel.error ? readApiError(cancel.error).fieldErrors?.reason : undefined;
  if (!confirming) {
    return (
      <>
        <p className="muted">
          Stops the sale at once. Shoppers keep vouchers they already redeemed; every other voucher
          is revoked and paid claims are refunded.
        </p>
        <button
          type="button"
          className="button button-secondary button-danger"
          onClick={() => setConfirming(true)}
        >
          Cancel this deal…
        </button>
      </>
    );
  }
  return (
    <form className="form cancel-form" noValidate onSubmit={submit}>
      <p className="cancel-warning">
        <strong>This cannot be undone.</strong>{" "}
        {sold > 0
          ? `The vouchers of up to ${sold} claims not yet redeemed are revoked and their payments refunded.`
          : "No one has claimed it yet."}
      </p>
      <div className="field">
        <label htmlFor="cancel-reason">Reason (kept in the change history)</label>
        <textarea
          id="cancel-reason"
          rows={2}
          value={reason}
          onChange={(event) => setReason(event.currentTarget.value)}
          aria-invalid={reasonErrors?.length ? true : undefined}
          aria-describedby={cancel.isError ? "cancel-error" : undefined}
        />
        {cancel.isError && (
          <p id="cancel-error" className="field-error" role="alert">
            {reasonErrors?.join("; ") ?? cancel.error.message}
          </p>
        )}
      </div>
      <div className="form-actions">
        <button type="submit" className="button button-danger-solid" disabled={cancel.isPending}>
          {cancel.isPending ? "Cancelling…" : "Yes, cancel the deal"}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => setConfirming(false)}
          disabled={cancel.isPending}
        >
          Keep the deal
        </button>
      </div>
    </form>
  );
}

"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { postClaimAnsweringChallenge, retryWhileBusy } from "@/lib/claims/claim-client";
import type { ClaimInput, ClaimResult } from "@/lib/claims/claim-contract";
import { claimResultMessage } from "@/lib/claims/claim-outcomes";
import { signInHref } from "@/lib/security/return-path";
import { useTRPC, useTRPCClient } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { ReservationPanel } from "./reservation-panel";

/**
 * One idempotency key per intent to claim, kept in sessionStorage until a final answer, so a
 * double click, a retry or a reload mid-claim sends the same key and can never win twice.
 */
function intentKey(dealId: string): string {
  const slot = `claim-intent:${dealId}`;
  const existing = sessionStorage.getItem(slot);
  if (existing) return existing;
  const key = crypto.randomUUID();
  sessionStorage.setItem(slot, key);
  return key;
}

/** The one reason a shopper who is not signed in may still sign in for: the sale opens soon. */
export const NOT_STARTED = "Not started yet";

export function ClaimButton(props: {
  dealId: string;
  /** Why the deal cannot be claimed right now, shown on the button; null when it can. */
  unavailable: string | null;
  signedInAs: "shopper" | "merchant" | "admin" | null;
  /** The formatted price of a priced deal, null for a free one. */
  price: string | null;
  /** The shopper's position from the browser, for deals with a geo-fence. */
  position?: { lat: number; lng: number };
}) {
  const queryClient = useQueryClient();
  const trpc = useTRPC();
  const trpcClient = useTRPCClient();
  const [result, setResult] = useState<ClaimResult | null>(null);
  const [busy, setBusy] = useState(false);
  // The lean claim route, not tRPC: the one request a sale sends thousands of times a second.
  const claim = useMutation({
    mutationFn: (input: ClaimInput) =>
      retryWhileBusy(
        () => postClaimAnsweringChallenge(input, () => trpcClient.claims.challenge.query()),
        { onBusy: () => setBusy(true) },
      ),
    onSettled: () => setBusy(false),
    onSuccess: (answer) => {
      setResult(answer);
      sessionStorage.removeItem(`claim-intent:${props.dealId}`);
      // Only a win changes anything a page shows: this deal's stock, and the shopper's claims
      // and vouchers. Every other outcome left all as it was.
      if (answer.outcome !== "WON") return;
      for (const filter of [
        trpc.deals.byId.queryFilter({ dealId: props.dealId }),
        trpc.deals.near.pathFilter(),
        trpc.claims.mine.pathFilter(),
        trpc.vouchers.mine.pathFilter(),
      ]) {
        queryClient.invalidateQueries(filter);
      }
    },
  });

  if (!props.signedInAs) {
    // Nothing to sign in for when the deal cannot be claimed by anyone.
    if (props.unavailable !== null && props.unavailable !== NOT_STARTED) {
      return (
        <button type="button" className="button" disabled>
          {props.unavailable}
        </button>
      );
    }
    return (
      <Link className="button" href={signInHref(`/deals/${props.dealId}`)}>
        Sign in to claim
      </Link>
    );
  }
  if (props.signedInAs !== "shopper") {
    return <p className="muted">Signed in as {props.signedInAs}: only shoppers claim deals.</p>;
  }

  const won = result?.outcome === "WON";
  return (
    <div className="claim">
      <button
        type="button"
        className="button"
        disabled={props.unavailable !== null || claim.isPending || won}
        onClick={() =>
          claim.mutate({
            dealId: props.dealId,
            idempotencyKey: intentKey(props.dealId),
            position: props.position && { lat: props.position.lat, lng: props.position.lng },
          })
        }
      >
        {busy
          ? "Busy, retrying…"
          : claim.isPending
            ? "Claiming…"
            : won
              ? "Claimed"
              : (props.unavailable ?? "Claim")}
      </button>
      <p role="status" aria-live="polite" className={won ? "result-won" : "result"}>
        {busy ? "The sale is busy: your claim is retried in a moment, with the same key." : ""}
        {result ? claimResultMessage(result) : ""}
        {claim.isError ? apiErrorMessage(claim.error) : ""}
      </p>
      {result?.outcome === "WON" && result.status === "reserved" && result.reservedUntil && (
        <ReservationPanel
          claimId={result.claimId}
          reservedUntil={result.reservedUntil}
          price={props.price ?? ""}
        />
      )}
      {result?.outcome === "WON" && result.voucherId && (
        <Link className="button" href={`/vouchers/${result.voucherId}`}>
          Show my voucher
        </Link>
      )}
    </div>
  );
}

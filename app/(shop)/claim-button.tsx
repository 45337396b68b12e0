"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { postClaimAnsweringChallenge } from "@/lib/claims/claim-client";
import type { ClaimInput, ClaimResult } from "@/lib/claims/claim-contract";
import { useTRPCClient } from "@/lib/trpc/client";
import { ReservationPanel } from "./reservation-panel";

const MESSAGES: Record<ClaimResult["outcome"], string> = {
  WON: "You got one!",
  ALREADY_CLAIMED: "You already hold a claim on this deal.",
  ALREADY_CANCELLED:
    "You cancelled your voucher for this deal, so its unit went to someone else: one voucher per shopper per deal.",
  SOLD_OUT: "Sold out — every unit has been claimed.",
  NOT_STARTED: "This sale has not started yet.",
  ENDED: "This sale has ended.",
  CANCELLED: "The merchant cancelled this deal.",
};

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
  const trpcClient = useTRPCClient();
  const [result, setResult] = useState<ClaimResult | null>(null);
  // The lean claim route, not tRPC: the one request a sale sends thousands of times a second.
  const claim = useMutation({
    mutationFn: (input: ClaimInput) =>
      postClaimAnsweringChallenge(input, () => trpcClient.claims.challenge.query()),
    onSuccess: (answer) => {
      setResult(answer);
      sessionStorage.removeItem(`claim-intent:${props.dealId}`);
      queryClient.invalidateQueries();
    },
  });

  if (!props.signedInAs) {
    return (
      <Link className="button" href="/sign-in">
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
            position: props.position,
          })
        }
      >
        {claim.isPending ? "Claiming…" : won ? "Claimed" : (props.unavailable ?? "Claim")}
      </button>
      <p role="status" aria-live="polite" className={won ? "result-won" : "result"}>
        {result?.outcome === "WON" && result.status === "reserved"
          ? "Reserved! Pay before the time runs out to keep it."
          : result
            ? MESSAGES[result.outcome]
            : ""}
        {claim.isError ? claim.error.message : ""}
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

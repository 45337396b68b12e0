"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useState } from "react";
import { postClaimAnsweringChallenge, retryWhileBusy } from "@/lib/claims/claim-client";
import type { ClaimInput } from "@/lib/claims/claim-contract";
import { claimResultMessage } from "@/lib/claims/claim-outcomes";
import { signInHref } from "@/lib/security/return-path";
import { useTRPC, useTRPCClient } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { RESERVATION_ENDS, type ReservationEnd, ReservationPanel } from "./reservation-panel";

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

/** A claim of this shopper's on this deal that still holds its unit (from `claims.mine`). */
export interface HeldClaim {
  claimId: string;
  status: "reserved" | "confirmed";
  reservedUntil: Date | null;
  voucherId: string | null;
}

/**
 * Where this shopper's claim on the deal stands, as the button last learnt it. Each phase has
 * one status line, so an old message never stays above a newer one.
 */
type Phase =
  | { kind: "idle"; says: string | null; failed: boolean; claimAgain: boolean }
  | { kind: "reserved"; claimId: string; reservedUntil: Date }
  | { kind: "holding"; voucherId: string | null; says: string };

const IDLE: Phase = { kind: "idle", says: null, failed: false, claimAgain: false };
const refused = (says: string): Phase => ({ kind: "idle", says, failed: true, claimAgain: false });

/** The claim that `held` stands for: a unit this shopper holds, or nothing. */
function phaseOfHeld(held: HeldClaim | null | undefined): Phase | null {
  if (!held) return null;
  if (held.status === "confirmed") {
    return { kind: "holding", voucherId: held.voucherId, says: "You have claimed this deal." };
  }
  if (held.reservedUntil && held.reservedUntil.getTime() > Date.now()) {
    return { kind: "reserved", claimId: held.claimId, reservedUntil: held.reservedUntil };
  }
  return null;
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
  /** The shopper's claim on this deal that holds a unit, as the server last said (a reload). */
  held?: HeldClaim | null;
}) {
  const queryClient = useQueryClient();
  const trpc = useTRPC();
  const trpcClient = useTRPCClient();
  // null until this page has heard an answer of its own; until then the server's word stands.
  const [known, setKnown] = useState<Phase | null>(null);
  const [busy, setBusy] = useState(false);
  const phase = known ?? phaseOfHeld(props.held) ?? IDLE;

  const refresh = useCallback(() => {
    for (const filter of [
      trpc.deals.byId.queryFilter({ dealId: props.dealId }),
      trpc.deals.near.pathFilter(),
      trpc.claims.mine.pathFilter(),
      trpc.vouchers.mine.pathFilter(),
    ]) {
      queryClient.invalidateQueries(filter);
    }
  }, [queryClient, trpc, props.dealId]);

  // The lean claim route, not tRPC: the one request a sale sends thousands of times a second.
  const claim = useMutation({
    mutationFn: (input: ClaimInput) =>
      retryWhileBusy(
        () => postClaimAnsweringChallenge(input, () => trpcClient.claims.challenge.query()),
        { onBusy: () => setBusy(true) },
      ),
    onMutate: () => setKnown(IDLE),
    onSettled: () => setBusy(false),
    onError: (error) => setKnown(refused(apiErrorMessage(error))),
    onSuccess: (answer) => {
      sessionStorage.removeItem(`claim-intent:${props.dealId}`);
      if (answer.outcome === "WON") {
        setKnown(
          answer.status === "reserved" && answer.reservedUntil
            ? { kind: "reserved", claimId: answer.claimId, reservedUntil: answer.reservedUntil }
            : {
                kind: "holding",
                voucherId: answer.voucherId ?? null,
                says: claimResultMessage(answer),
              },
        );
        refresh();
        return;
      }
      // Held already (another tab, an earlier visit): the claims list says how, so ask it.
      if (answer.outcome === "ALREADY_CLAIMED") {
        setKnown(null);
        queryClient.invalidateQueries(trpc.claims.mine.pathFilter());
        return;
      }
      setKnown(refused(claimResultMessage(answer)));
    },
  });

  const onReservationEnd = useCallback(
    (end: ReservationEnd) => {
      const { says, claimAgain } = RESERVATION_ENDS[end.outcome];
      setKnown(
        end.outcome === "PAID"
          ? { kind: "holding", voucherId: end.voucherId, says }
          : { kind: "idle", says, failed: true, claimAgain },
      );
      refresh();
    },
    [refresh],
  );

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

  const holds = phase.kind !== "idle";
  // The one status line: what is true now, never an earlier step's message.
  const says = busy
    ? "The sale is busy: your claim is retried in a moment, with the same key."
    : phase.kind === "reserved"
      ? null
      : phase.says;
  const statusClass =
    phase.kind === "holding"
      ? "result-won"
      : phase.kind === "idle" && phase.failed && !busy
        ? "result result-bad"
        : "result";
  return (
    <div className="claim">
      <button
        type="button"
        className="button"
        disabled={props.unavailable !== null || claim.isPending || holds}
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
            : phase.kind === "holding"
              ? "Claimed"
              : phase.kind === "reserved"
                ? "Reserved"
                : (props.unavailable ?? (phase.claimAgain ? "Claim again" : "Claim"))}
      </button>
      <p role="status" aria-live="polite" data-testid="claim-status" className={statusClass}>
        {says ?? ""}
      </p>
      {phase.kind === "reserved" && (
        <ReservationPanel
          key={phase.claimId}
          claimId={phase.claimId}
          reservedUntil={phase.reservedUntil}
          price={props.price ?? ""}
          onEnd={onReservationEnd}
        />
      )}
      {phase.kind === "holding" && phase.voucherId && (
        <Link className="button" href={`/vouchers/${phase.voucherId}`}>
          Show my voucher
        </Link>
      )}
    </div>
  );
}

"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatPrice } from "@/lib/format-price";
import { signInHref } from "@/lib/security/return-path";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { RESERVATION_ENDS, type ReservationEnd, ReservationPanel } from "../reservation-panel";

export function MyClaims() {
  const trpc = useTRPC();
  const claims = useQuery(trpc.claims.mine.queryOptions());
  if (claims.isPending) return <p className="muted">Loading…</p>;
  if (claims.isError) {
    return (
      <p className="error">
        {apiErrorMessage(claims.error)} <Link href={signInHref("/claims")}>Sign in</Link>
      </p>
    );
  }
  if (claims.data.length === 0) {
    return (
      <p className="muted">
        You have not claimed anything yet. <Link href="/">See the deals</Link>
      </p>
    );
  }
  return (
    <ul className="claim-list">
      {claims.data.map((claim) => (
        <li key={claim.claimId} className="card" data-testid="my-claim">
          <strong>{claim.dealTitle}</strong>
          <span className="muted"> · {claim.merchantName}</span>
          <div>
            <span className={`badge badge-${claim.status}`}>{claim.status}</span>{" "}
            <span className="muted">claimed {claim.claimedAt.toLocaleString()}</span>
            {claim.payment && <PaymentLine {...claim.payment} />}
            {claim.status === "reserved" && claim.reservedUntil && (
              <HeldForPayment
                claimId={claim.claimId}
                reservedUntil={claim.reservedUntil}
                price={formatPrice(claim.priceCents, claim.currency)}
              />
            )}
            {claim.voucherId && (
              <>
                {" · "}
                <Link href={`/vouchers/${claim.voucherId}`}>Voucher</Link>
              </>
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}

const PAYMENT_WORDS: Record<string, (amount: string) => string> = {
  paid: (amount) => `paid ${amount}`,
  refund_pending: (amount) => `refund of ${amount} on its way`,
  refunded: (amount) => `refunded ${amount}`,
  pending: (amount) => `payment of ${amount} being checked`,
};

/** What became of the shopper's money; nothing for a declined or failed card (none taken). */
function PaymentLine(props: { status: string; amountCents: number; currency: string }) {
  const words = PAYMENT_WORDS[props.status];
  if (!words) return null;
  return (
    <span className="muted" data-testid="claim-payment">
      {" · "}
      {words(formatPrice(props.amountCents, props.currency))}
    </span>
  );
}

/** A reservation still open (pay or let go here), then how it ended, in one status line. */
function HeldForPayment(props: { claimId: string; reservedUntil: Date; price: string }) {
  const [end, setEnd] = useState<ReservationEnd | null>(null);
  if (end) {
    return (
      <p className={end.outcome === "PAID" ? "result-won" : "result result-bad"} role="status">
        {RESERVATION_ENDS[end.outcome].says}
      </p>
    );
  }
  if (props.reservedUntil <= new Date()) return null;
  return <ReservationPanel {...props} onEnd={setEnd} />;
}

"use client";

import { useQuery } from "@tanstack/react-query";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import { ClaimButton } from "./claim-button";

function formatTime(date: Date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function DealList() {
  const trpc = useTRPC();
  const deals = useQuery(trpc.deals.list.queryOptions(undefined, { refetchInterval: 10_000 }));
  const me = useQuery(trpc.auth.me.queryOptions());

  if (deals.isPending) return <p className="muted">Loading deals…</p>;
  if (deals.isError)
    return <p className="error">Deals could not be loaded: {deals.error.message}</p>;
  if (deals.data.length === 0) return <p className="muted">No deals right now. Check back soon.</p>;

  const now = new Date();
  const shown = deals.data
    .map((deal) => {
      const live = deal.startsAt <= now && deal.endsAt > now;
      const soldOut = deal.remaining <= 0;
      return { deal, live, soldOut, rank: soldOut ? 2 : live ? 0 : 1 };
    })
    .sort((a, b) => a.rank - b.rank);
  return (
    <ul className="deal-grid">
      {shown.map(({ deal, live, soldOut }) => {
        return (
          <li key={deal.id} className="deal-card" data-testid="deal-card" data-deal-id={deal.id}>
            <div className="deal-top">
              <span
                className={`badge ${soldOut ? "badge-out" : live ? "badge-live" : "badge-soon"}`}
              >
                {soldOut ? "Sold out" : live ? "Live" : `Starts ${formatTime(deal.startsAt)}`}
              </span>
              <span className="price">
                {deal.priceCents === 0 ? "Free" : formatPrice(deal.priceCents, deal.currency)}
                {deal.originalPriceCents ? (
                  <s className="muted was">{formatPrice(deal.originalPriceCents, deal.currency)}</s>
                ) : null}
              </span>
            </div>
            <h2>{deal.title}</h2>
            <p className="merchant">
              {deal.merchantName} · {deal.merchantAddress}
            </p>
            <p>{deal.description}</p>
            <p className="stock" data-testid="remaining">
              {soldOut ? "None left" : `${deal.remaining} of ${deal.quantity} left`} · ends{" "}
              {formatTime(deal.endsAt)}
            </p>
            <ClaimButton
              dealId={deal.id}
              unavailable={soldOut ? "Sold out" : live ? null : "Not started yet"}
              signedInAs={me.data?.role ?? null}
              price={deal.priceCents > 0 ? formatPrice(deal.priceCents, deal.currency) : null}
            />
          </li>
        );
      })}
    </ul>
  );
}

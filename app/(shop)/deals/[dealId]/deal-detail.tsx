"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useLiveStock } from "@/lib/deals/use-live-stock";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { ClaimButton, NOT_STARTED } from "../../claim-button";
import { useHeldClaims } from "../../use-held-claims";
import { useNow } from "../../use-now";
import { useShopperLocation } from "../../use-shopper-location";

/** One deal, with its stock live: the count drops as others claim, and sold out shows by itself. */
export function DealDetail({ dealId }: { dealId: string }) {
  const trpc = useTRPC();
  const deal = useQuery(trpc.deals.byId.queryOptions({ dealId }, { retry: false }));
  const me = useQuery(trpc.auth.me.queryOptions());
  const held = useHeldClaims(me.data?.role === "shopper");
  const live = useLiveStock(dealId);
  const now = useNow();
  const { location } = useShopperLocation();

  if (deal.isPending) return <p className="muted">Loading…</p>;
  if (deal.isError) {
    return (
      <p className="card not-found error">
        {apiErrorMessage(deal.error, {
          missing: "This deal does not exist or is no longer listed.",
        })}{" "}
        <Link href="/">See all deals</Link>
      </p>
    );
  }
  const d = deal.data;
  const remaining = live.stock?.remaining ?? d.remaining;
  // A live sale's quantity may grow while the page is open.
  const quantity = live.stock?.quantity ?? d.quantity;
  const soldOut = remaining <= 0;
  const onSale = d.startsAt <= now && d.endsAt > now;
  const price = d.priceCents > 0 ? formatPrice(d.priceCents, d.currency) : null;
  return (
    <article className="deal-page">
      <p className="muted">
        <Link href="/">← All deals</Link>
      </p>
      <h1>{d.title}</h1>
      <p className="merchant">
        {d.merchantName} · {d.merchantAddress}
      </p>
      <p className="price">
        {price ?? "Free"}
        {d.originalPriceCents ? (
          <s className="muted was">{formatPrice(d.originalPriceCents, d.currency)}</s>
        ) : null}
      </p>
      <p>{d.description}</p>
      {d.geofenceRadiusM ? (
        <p className="muted">
          Claim within {d.geofenceRadiusM} m of the shop: your browser will ask for your location.
        </p>
      ) : null}
      <p
        className={`live-stock${soldOut ? " live-stock-out" : ""}`}
        data-testid="live-stock"
        aria-live="polite"
      >
        {soldOut ? "Sold out" : `${remaining} of ${quantity} left`}
        {live.connected && !soldOut ? <span className="muted"> · live</span> : null}
      </p>
      <ClaimButton
        dealId={d.id}
        unavailable={
          soldOut ? "Sold out" : onSale ? null : d.startsAt > now ? NOT_STARTED : "Ended"
        }
        signedInAs={me.data?.role ?? null}
        price={price}
        position={location.source === "device" ? location : undefined}
        held={held.get(d.id)}
      />
    </article>
  );
}

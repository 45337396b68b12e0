"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { ClaimButton, NOT_STARTED } from "./claim-button";
import { formatDistance } from "./format-distance";
import { LocationBar } from "./location-bar";
import { useHeldClaims } from "./use-held-claims";
import { useNow } from "./use-now";
import { useShopperLocation } from "./use-shopper-location";

function formatTime(date: Date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** A countdown in the last hour before a sale, the clock time before that. */
function startsLabel(startsAt: Date, now: Date) {
  const seconds = Math.ceil((startsAt.getTime() - now.getTime()) / 1_000);
  if (seconds > 3_600) return `Starts ${formatTime(startsAt)}`;
  return `Starts in ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Deals near the shopper, nearest first, with live stock as the cache shows it. */
export function DealList() {
  const trpc = useTRPC();
  const { location, setLocation, locate, problem } = useShopperLocation();
  const [radiusKm, setRadiusKm] = useState(5);
  const deals = useQuery(
    trpc.deals.near.queryOptions(
      { lat: location.lat, lng: location.lng, radiusKm },
      { refetchInterval: 4_000, placeholderData: (previous) => previous },
    ),
  );
  const me = useQuery(trpc.auth.me.queryOptions());
  const held = useHeldClaims(me.data?.role === "shopper");
  const now = useNow();
  const bar = (
    <LocationBar
      location={location}
      onChange={setLocation}
      onLocate={locate}
      radiusKm={radiusKm}
      onRadius={setRadiusKm}
      problem={problem}
    />
  );

  if (deals.isPending) {
    return (
      <>
        {bar}
        <p className="muted">Loading deals…</p>
      </>
    );
  }
  if (deals.isError) {
    return (
      <>
        {bar}
        <p className="error">Deals could not be loaded: {apiErrorMessage(deals.error)}</p>
      </>
    );
  }
  if (deals.data.length === 0) {
    return (
      <>
        {bar}
        <p className="muted empty">
          No deals within {radiusKm} km right now. Try a wider distance or another place.
        </p>
      </>
    );
  }

  const shown = deals.data.map((deal) => ({
    deal,
    live: deal.startsAt <= now && deal.endsAt > now,
    soldOut: deal.remaining <= 0,
  }));
  return (
    <>
      {bar}
      <ul className="deal-grid">
        {shown.map(({ deal, live, soldOut }) => {
          return (
            <li key={deal.id} className="deal-card" data-testid="deal-card" data-deal-id={deal.id}>
              <div className="deal-top">
                <span
                  className={`badge ${soldOut ? "badge-out" : live ? "badge-live" : "badge-soon"}`}
                >
                  {soldOut ? "Sold out" : live ? "Live" : startsLabel(deal.startsAt, now)}
                </span>
                <span className="price">
                  {deal.priceCents === 0 ? "Free" : formatPrice(deal.priceCents, deal.currency)}
                  {deal.originalPriceCents ? (
                    <s className="muted was">
                      {formatPrice(deal.originalPriceCents, deal.currency)}
                    </s>
                  ) : null}
                </span>
              </div>
              <h2>
                <Link href={`/deals/${deal.id}`} className="deal-link">
                  {deal.title}
                </Link>
              </h2>
              <p className="merchant">
                {deal.merchantName} · {deal.merchantAddress}
              </p>
              <p className="distance" data-testid="distance">
                {formatDistance(deal.distanceKm)}
              </p>
              <p>{deal.description}</p>
              <p className="stock" data-testid="remaining">
                {soldOut ? "None left" : `${deal.remaining} of ${deal.quantity} left`} · ends{" "}
                {formatTime(deal.endsAt)}
              </p>
              <ClaimButton
                dealId={deal.id}
                unavailable={soldOut ? "Sold out" : live ? null : NOT_STARTED}
                signedInAs={me.data?.role ?? null}
                price={deal.priceCents > 0 ? formatPrice(deal.priceCents, deal.currency) : null}
                position={location.source === "device" ? location : undefined}
                held={held.get(deal.id)}
              />
            </li>
          );
        })}
      </ul>
    </>
  );
}

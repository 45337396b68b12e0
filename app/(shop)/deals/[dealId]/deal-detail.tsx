"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo } from "react";
import { BackLink } from "@/app/_ui/back-link";
import { dealPhase } from "@/lib/deals/deal-rules";
import { useLiveStock } from "@/lib/deals/use-live-stock";
import { formatPrice } from "@/lib/format-price";
import { distanceKm } from "@/lib/geo";
import { useTRPC } from "@/lib/trpc/client";
import { readServerClock, serverNow } from "@/lib/vouchers/server-clock";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { ClaimButton, NOT_STARTED } from "../../claim-button";
import { directionsHref, formatDistance } from "../../format-distance";
import { useHeldClaims } from "../../use-held-claims";
import { useNow } from "../../use-now";
import { useShopperLocation } from "../../use-shopper-location";
import { countdownText, formatPickup, formatShopTime } from "./shop-time";

/**
 * One deal, with its stock live: the count drops as others claim, and sold out shows by itself.
 * Before the start it counts down by the server's clock (the answer carries it), not the phone's.
 */
export function DealDetail({ dealId }: { dealId: string }) {
  const trpc = useTRPC();
  const deal = useQuery(trpc.deals.byId.queryOptions({ dealId }, { retry: false }));
  const me = useQuery(trpc.auth.me.queryOptions());
  const held = useHeldClaims(me.data?.role === "shopper");
  const live = useLiveStock(dealId);
  const deviceNow = useNow();
  const { location } = useShopperLocation();
  const clock = useMemo(
    () =>
      deal.data
        ? readServerClock(deal.data.serverNow, deal.dataUpdatedAt, deal.dataUpdatedAt)
        : null,
    [deal.data, deal.dataUpdatedAt],
  );

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
  const now = clock ? serverNow(clock, deviceNow.getTime()) : deviceNow;
  const remaining = live.stock?.remaining ?? d.remaining;
  // A live sale's quantity may grow while the page is open.
  const quantity = live.stock?.quantity ?? d.quantity;
  const phase = dealPhase(d, now);
  const soldOut = remaining <= 0;
  const price = d.priceCents > 0 ? formatPrice(d.priceCents, d.currency) : null;
  const away = location.source === "device" ? distanceKm(location, d) : null;
  return (
    <article className="deal-page">
      <BackLink href="/">All deals</BackLink>
      <h1>{d.title}</h1>
      <p className="price">
        {price ?? "Free"}
        {d.originalPriceCents ? (
          <s className="muted was">{formatPrice(d.originalPriceCents, d.currency)}</s>
        ) : null}
      </p>
      <DealState
        phase={phase}
        soldOut={soldOut}
        remaining={remaining}
        quantity={quantity}
        connected={live.connected}
        startsIn={d.startsAt.getTime() - now.getTime()}
        saleWindow={formatPickup(d.startsAt, d.endsAt, d.merchantTimeZone)}
        endsAt={formatShopTime(d.endsAt, d.merchantTimeZone)}
      />
      <ClaimButton
        dealId={d.id}
        unavailable={
          phase === "cancelled"
            ? "Cancelled"
            : soldOut
              ? "Sold out"
              : phase === "live"
                ? null
                : phase === "upcoming"
                  ? NOT_STARTED
                  : "Ended"
        }
        signedInAs={me.data?.role ?? null}
        price={price}
        position={location.source === "device" ? location : undefined}
        held={held.get(d.id)}
      />
      {d.description && <p>{d.description}</p>}
      <dl className="deal-facts">
        <div>
          <dt>Where</dt>
          <dd>
            <strong>{d.merchantName}</strong>
            <br />
            {d.merchantAddress}
            {away !== null && (
              <>
                <br />
                <span className="distance" data-testid="deal-distance">
                  {formatDistance(away)}
                </span>
              </>
            )}
            <br />
            <a href={directionsHref(d)} target="_blank" rel="noopener noreferrer">
              Directions
            </a>
          </dd>
        </div>
        {d.pickupStartsAt && d.pickupEndsAt && (
          <div>
            <dt>Pickup</dt>
            <dd data-testid="pickup-window">
              {formatPickup(d.pickupStartsAt, d.pickupEndsAt, d.merchantTimeZone)}
            </dd>
          </div>
        )}
        {d.geofenceRadiusM ? (
          <div>
            <dt>Claim from</dt>
            <dd>
              Within {d.geofenceRadiusM} m of the shop: your browser will ask for your location.
            </dd>
          </div>
        ) : null}
        {d.finePrint && (
          <div>
            <dt>Fine print</dt>
            <dd className="fine-print" data-testid="fine-print">
              {d.finePrint}
            </dd>
          </div>
        )}
      </dl>
    </article>
  );
}

/** Where the sale stands: a countdown before it, live stock during it, why it is over after. */
function DealState(props: {
  phase: ReturnType<typeof dealPhase>;
  soldOut: boolean;
  remaining: number;
  quantity: number;
  connected: boolean;
  startsIn: number;
  saleWindow: string;
  endsAt: string;
}) {
  const over = props.phase === "cancelled" || props.phase === "ended" || props.soldOut;
  return (
    <div className={`deal-state deal-state-${props.soldOut ? "sold-out" : props.phase}`}>
      <p
        className={`live-stock${over ? " live-stock-out" : ""}`}
        data-testid="live-stock"
        aria-live="polite"
      >
        {props.phase === "cancelled"
          ? "Cancelled by the shop"
          : props.phase === "ended"
            ? "This sale has ended"
            : props.soldOut
              ? "Sold out"
              : props.phase === "upcoming"
                ? `Starts in ${countdownText(props.startsIn)}`
                : `${props.remaining} of ${props.quantity} left`}
        {props.phase === "live" && props.connected && !props.soldOut ? (
          <span className="muted"> · live</span>
        ) : null}
      </p>
      <p className="muted" data-testid="deal-window">
        {props.phase === "upcoming"
          ? `${props.quantity} units on sale ${props.saleWindow}`
          : props.phase === "cancelled"
            ? "Its vouchers were cancelled; paid ones are refunded."
            : props.phase === "ended"
              ? `The sale ran until ${props.endsAt}.`
              : props.soldOut
                ? `Every unit has been claimed. The sale runs until ${props.endsAt}.`
                : `Ends ${props.endsAt}`}
      </p>
    </div>
  );
}

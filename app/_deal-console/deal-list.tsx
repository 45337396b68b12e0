"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useNow } from "@/app/(shop)/use-now";
import { type DealPhase, dealPhase } from "@/lib/deals/deal-rules";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import { CONSOLE_PATHS, type ConsoleAudience } from "./console-types";
import { formatWindow } from "./format-when";
import { PhaseBadge } from "./phase-badge";
import { RequestProblem } from "./request-problem";
import { SoldBar } from "./sold-bar";
import "./deal-console.css";

/** Live sales first, then the ones to come, then the past. */
const PHASE_ORDER: Record<DealPhase, number> = { live: 0, upcoming: 1, ended: 2, cancelled: 3 };

/** Every deal the viewer manages: admins all merchants', staff their own. */
export function DealList({ audience }: { audience: ConsoleAudience }) {
  const trpc = useTRPC();
  const deals = useQuery(
    trpc.sales.list.queryOptions(undefined, { retry: false, refetchInterval: 5_000 }),
  );
  const now = useNow();
  const paths = CONSOLE_PATHS[audience];
  const showMerchant = audience === "admin";

  const rows = (deals.data ?? [])
    .map((deal) => ({ ...deal, phase: dealPhase(deal, now) }))
    .sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase]);

  return (
    <div className="deal-console">
      <div className="console-head">
        <h1>{audience === "admin" ? "Sales" : "Your deals"}</h1>
        {deals.isSuccess && (
          <Link className="button" href={paths.newDeal}>
            New deal
          </Link>
        )}
      </div>
      {deals.isPending ? (
        <p className="muted">Loading deals…</p>
      ) : deals.isError ? (
        <RequestProblem error={deals.error} />
      ) : rows.length === 0 ? (
        <p className="card muted">No deals yet. Create the first one with “New deal”.</p>
      ) : (
        <div className="card table-card">
          <table className="deal-table">
            <caption className="visually-hidden">{rows.length} deals, live sales first</caption>
            <thead>
              <tr>
                <th scope="col">Deal</th>
                {showMerchant && <th scope="col">Merchant</th>}
                <th scope="col">Phase</th>
                <th scope="col">Sold</th>
                <th scope="col" className="numeric">
                  Price
                </th>
                <th scope="col">Sale window</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((deal) => (
                <tr key={deal.id} data-testid="deal-row">
                  <td>
                    <Link className="deal-row-link" href={paths.deal(deal.id)}>
                      {deal.title}
                    </Link>
                  </td>
                  {showMerchant && <td>{deal.merchantName}</td>}
                  <td>
                    <PhaseBadge phase={deal.phase} />
                  </td>
                  <td>
                    <SoldBar sold={deal.sold} quantity={deal.quantity} />
                  </td>
                  <td className="numeric">
                    {deal.priceCents > 0 ? formatPrice(deal.priceCents, deal.currency) : "Free"}
                  </td>
                  <td className="nowrap">{formatWindow(deal.startsAt, deal.endsAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

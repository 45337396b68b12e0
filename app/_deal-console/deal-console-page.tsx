"use client";

import { useQuery } from "@tanstack/react-query";
import { useNow } from "@/app/(shop)/use-now";
import { dealPhase } from "@/lib/deals/deal-rules";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import { CancelDeal } from "./cancel-deal";
import { CONSOLE_PATHS, type ConsoleAudience } from "./console-types";
import { DealHistory } from "./deal-history";
import { EditDeal } from "./edit-deal";
import { formatWindow } from "./format-when";
import { PhaseBadge } from "./phase-badge";
import { RebuildGate } from "./rebuild-gate";
import { RequestProblem } from "./request-problem";
import { SaleMonitor } from "./sale-monitor";
import "./deal-console.css";
import { BackLink } from "@/app/_ui/back-link";

/** The console's deals are priced in euros (the form asks for euros). */
const CURRENCY = "EUR";

/** One deal: its live monitor on top, then editing, cancelling and its history. */
export function DealConsolePage({
  dealId,
  audience,
}: {
  dealId: string;
  audience: ConsoleAudience;
}) {
  const trpc = useTRPC();
  const deal = useQuery(trpc.sales.get.queryOptions({ dealId }, { retry: false }));
  const now = useNow();
  const paths = CONSOLE_PATHS[audience];
  const back = <BackLink href={paths.list}>All deals</BackLink>;

  if (deal.isPending) {
    return (
      <div className="deal-console">
        {back}
        <p className="muted">Loading deal…</p>
      </div>
    );
  }
  if (deal.isError) {
    return (
      <div className="deal-console">
        {back}
        <RequestProblem
          error={deal.error}
          back={{ href: paths.list, label: audience === "admin" ? "All deals" : "Your deals" }}
        />
      </div>
    );
  }
  const d = deal.data;
  const phase = dealPhase(d, now);
  return (
    <div className="deal-console">
      {back}
      <header className="deal-head">
        <h1>{d.title}</h1>
        <p className="deal-head-meta">
          <PhaseBadge phase={phase} />
          {audience === "admin" && <span>{d.merchantName}</span>}
          <span>{formatWindow(d.startsAt, d.endsAt)}</span>
          <span>{d.priceCents > 0 ? formatPrice(d.priceCents, CURRENCY) : "Free"}</span>
        </p>
      </header>
      <SaleMonitor dealId={dealId} />
      <div className="deal-columns">
        <section className="card" aria-labelledby="edit-title">
          <h2 id="edit-title">Edit deal</h2>
          <EditDeal deal={d} phase={phase} />
        </section>
        <div className="deal-side">
          <section className="card" aria-labelledby="cancel-title">
            <h2 id="cancel-title">Cancel deal</h2>
            <CancelDeal dealId={dealId} phase={phase} sold={d.sold} />
          </section>
          {audience === "admin" && (
            <section className="card" aria-labelledby="gate-title">
              <h2 id="gate-title">Claim gate</h2>
              <RebuildGate dealId={dealId} />
            </section>
          )}
          <section className="card" aria-labelledby="history-title">
            <h2 id="history-title">Change history</h2>
            <DealHistory dealId={dealId} currency={CURRENCY} />
          </section>
        </div>
      </div>
    </div>
  );
}

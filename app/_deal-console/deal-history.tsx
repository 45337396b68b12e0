"use client";

import { useQuery } from "@tanstack/react-query";
import type { DealField } from "@/lib/deals/deal-rules";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import type { HistoryEntry } from "./console-types";
import { FIELD_LABELS } from "./deal-form-values";
import { formatWhen } from "./format-when";

type Details = Record<string, unknown>;

/** A field's value as the history shows it. */
function shown(field: string, value: unknown, currency: string): string {
  if (value === null || value === undefined) return "none";
  if ((field === "priceCents" || field === "originalPriceCents") && typeof value === "number") {
    return formatPrice(value, currency);
  }
  if (field === "startsAt" || field === "endsAt" || field === "voucherValidUntil") {
    return formatWhen(new Date(String(value)));
  }
  if (field === "location" && typeof value === "object") {
    const { lat, lng } = value as { lat: number; lng: number };
    return `${lat}, ${lng}`;
  }
  if (field === "geofenceRadiusM") return `${value} m`;
  return typeof value === "string" ? `“${value}”` : String(value);
}

function describeEntry(entry: HistoryEntry, currency: string): string {
  const details = entry.details as Details;
  switch (entry.action) {
    case "deal.create":
      return `created the deal (quantity ${details.quantity})`;
    case "deal.update":
      return `changed ${Object.entries(details)
        .map(([field, change]) => {
          const { from, to } = change as { from: unknown; to: unknown };
          const label = FIELD_LABELS[field as DealField]?.toLowerCase() ?? field;
          return `${label} from ${shown(field, from, currency)} to ${shown(field, to, currency)}`;
        })
        .join("; ")}`;
    case "deal.cancel":
      return `cancelled the deal: “${details.reason}” (${details.claimsCancelled} claims cancelled)`;
    case "gate.rebuild": {
      const after = details.after as { consistent?: boolean } | undefined;
      const before = details.before as { consistent?: boolean } | undefined;
      const state = (gate?: { consistent?: boolean }) => (gate?.consistent ? "in sync" : "drift");
      return `rebuilt the gate (${state(before)} → ${state(after)})`;
    }
    default:
      return entry.action;
  }
}

/** Who changed the deal, what and when: newest first. */
export function DealHistory({ dealId, currency }: { dealId: string; currency: string }) {
  const trpc = useTRPC();
  const history = useQuery(trpc.sales.history.queryOptions({ dealId }, { retry: false }));
  if (history.isPending) return <p className="muted">Loading…</p>;
  if (history.isError) return <p className="error">{history.error.message}</p>;
  if (history.data.length === 0) return <p className="muted">No changes recorded.</p>;
  return (
    <ol className="console-history">
      {history.data.map((entry) => (
        <li key={entry.id} data-testid="history-entry">
          <time className="history-time" dateTime={entry.at.toISOString()}>
            {formatWhen(entry.at)}
          </time>
          <span>
            <strong>{entry.actorName}</strong>
            <span className="muted"> ({entry.actorRole === "admin" ? "admin" : "staff"})</span>{" "}
            {describeEntry(entry, currency)}
          </span>
        </li>
      ))}
    </ol>
  );
}

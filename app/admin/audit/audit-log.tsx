"use client";

import { useQueries, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc/client";
import { AdminTable, ErrorNote, formatWhen } from "../admin-parts";
import { MerchantFilter } from "../merchant-filter";
import { describeChanges, describeSubject, type KnownNames } from "./describe-audit-entry";

const PAGE_SIZE = 100;

/** Where the thing an entry is about has its own page (a gate is its deal's). */
const PAGE_OF: Partial<Record<string, string>> = {
  merchant: "/admin/merchants",
  deal: "/admin/deals",
  gate: "/admin/deals",
};

export function AuditLog({ initialMerchantId }: { initialMerchantId: string | null }) {
  const trpc = useTRPC();
  const [merchantId, setMerchantId] = useState(initialMerchantId);
  // One page per cursor: the first has none, each next starts before the last entry shown.
  const [cursors, setCursors] = useState<({ at: Date; id: string } | null)[]>([null]);
  // Once older pages are shown, the newest is not refreshed: new entries would push some out
  // of it, and the next page (which starts at a fixed time) would not show them.
  const frozen = cursors.length > 1 ? { staleTime: Number.POSITIVE_INFINITY } : {};
  const pages = useQueries({
    queries: cursors.map((before) =>
      trpc.admin.auditLog.queryOptions({ merchantId, before }, frozen),
    ),
  });
  const merchants = useQuery(trpc.admin.merchants.queryOptions());
  const deals = useQuery(trpc.sales.list.queryOptions());
  const names: KnownNames = {
    merchant: (id) => merchants.data?.find((merchant) => merchant.id === id)?.name,
    deal: (id) => deals.data?.find((deal) => deal.id === id)?.title,
  };

  const entries = pages.flatMap((page) => page.data ?? []);
  const lastPage = pages.at(-1);
  const oldest = entries.at(-1);
  const failed = pages.find((page) => page.isError);

  return (
    <section className="card admin-section" aria-label="Audit entries">
      <MerchantFilter
        merchantId={merchantId}
        onChange={(chosen) => {
          setMerchantId(chosen);
          setCursors([null]);
        }}
      />
      {entries.length > 0 && (
        <AdminTable columns={["When", "Who", "Action", "About", "Changes"]} stackOnNarrow>
          {entries.map((entry) => {
            const changes = describeChanges(entry);
            const merchantName = entry.merchantId ? names.merchant(entry.merchantId) : null;
            return (
              <tr key={entry.id} data-testid="audit-row">
                <td className="when">{formatWhen(entry.at)}</td>
                <td>
                  {entry.actorName} <span className="muted">({entry.actorRole})</span>
                </td>
                <td>
                  <span className="action-code">{entry.action}</span>
                </td>
                <td>
                  {PAGE_OF[entry.targetType] ? (
                    <Link href={`${PAGE_OF[entry.targetType]}/${entry.targetId}`}>
                      {describeSubject(entry, names)}
                    </Link>
                  ) : (
                    describeSubject(entry, names)
                  )}
                  {!merchantId && merchantName && entry.targetType !== "merchant" && (
                    <span className="cell-sub">{merchantName}</span>
                  )}
                </td>
                <td>
                  {changes.length > 0 ? (
                    <ul className="audit-changes">
                      {changes.map((change) => (
                        <li key={change}>{change}</li>
                      ))}
                    </ul>
                  ) : (
                    <span className="muted no-changes">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </AdminTable>
      )}
      {lastPage?.isPending && (
        <p className="muted" role="status">
          Loading entries…
        </p>
      )}
      {failed && <ErrorNote error={failed.error} />}
      {lastPage?.isSuccess && entries.length === 0 && (
        <p className="empty">No changes recorded{merchantId ? " for this merchant" : ""} yet.</p>
      )}
      {lastPage?.isSuccess && entries.length > 0 && (
        <div className="admin-more">
          {lastPage.data.length === PAGE_SIZE && oldest ? (
            <button
              type="button"
              className="button button-secondary"
              onClick={() => setCursors([...cursors, { at: oldest.at, id: oldest.id }])}
            >
              Older entries
            </button>
          ) : (
            <p className="muted">That is the first change recorded.</p>
          )}
        </div>
      )}
    </section>
  );
}

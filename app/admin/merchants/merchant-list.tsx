"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/client";
import { AdminTable, QueryView } from "../admin-parts";

const coordinates = (lat: number, lng: number) => `${lat.toFixed(4)}, ${lng.toFixed(4)}`;

export function MerchantList() {
  const trpc = useTRPC();
  const merchants = useQuery(trpc.admin.merchants.queryOptions());
  return (
    <section className="card admin-section" aria-labelledby="merchant-list">
      <h2 id="merchant-list">All merchants</h2>
      <QueryView query={merchants} what="merchants">
        {(rows) =>
          rows.length === 0 ? (
            <p className="empty">No merchants yet: add the first one with the form.</p>
          ) : (
            <AdminTable
              columns={[
                "Merchant",
                { label: "Location", className: "hide-narrow" },
                { label: "Staff", className: "num" },
                { label: "Deals", className: "num" },
              ]}
            >
              {rows.map((merchant) => (
                <tr key={merchant.id} data-testid="merchant-row">
                  <td>
                    <Link href={`/admin/merchants/${merchant.id}`}>
                      <strong>{merchant.name}</strong>
                    </Link>
                    <span className="cell-sub">{merchant.address}</span>
                  </td>
                  <td className="mono hide-narrow">{coordinates(merchant.lat, merchant.lng)}</td>
                  <td className="num">{merchant.staff}</td>
                  <td className="num">{merchant.deals}</td>
                </tr>
              ))}
            </AdminTable>
          )
        }
      </QueryView>
    </section>
  );
}

"use client";

import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { useId } from "react";
import { useTRPC } from "@/lib/trpc/client";

/**
 * Picks one merchant or all. The choice is kept in the address (`?merchant=`), so a filtered
 * view can be linked to, as the merchant page does.
 */
export function MerchantFilter({
  merchantId,
  onChange,
}: {
  merchantId: string | null;
  onChange: (merchantId: string | null) => void;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const id = useId();
  const merchants = useQuery(trpc.admin.merchants.queryOptions());
  return (
    <div className="filter-bar">
      <label htmlFor={id}>Merchant</label>
      <select
        id={id}
        value={merchantId ?? ""}
        disabled={merchants.isPending}
        onChange={(event) => {
          const chosen = event.target.value || null;
          onChange(chosen);
          router.replace(chosen ? `${pathname}?merchant=${chosen}` : pathname, { scroll: false });
        }}
      >
        <option value="">All merchants</option>
        {merchants.data?.map((merchant) => (
          <option key={merchant.id} value={merchant.id}>
            {merchant.name}
          </option>
        ))}
      </select>
      {merchants.isError && <span className="field-error">Could not load the merchants.</span>}
    </div>
  );
}

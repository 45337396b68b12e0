"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { BackLink } from "@/app/_ui/back-link";
import { formatPrice } from "@/lib/format-price";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { VoucherStateBadge } from "../voucher-state-badge";
import { VoucherQrCode } from "./voucher-qr-code";

const NOT_USABLE = {
  redeemed: "This voucher has been redeemed.",
  expired: "This voucher has expired.",
  cancelled: "This voucher was cancelled and can no longer be used.",
} as const;

export function VoucherDetail({ voucherId }: { voucherId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const voucher = useQuery(trpc.vouchers.get.queryOptions({ voucherId }, { retry: false }));
  const cancel = useMutation(
    trpc.claims.cancel.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }),
  );

  if (voucher.isPending) return <p className="muted">Loading…</p>;
  if (voucher.isError) {
    return (
      <p className="error">
        {apiErrorMessage(voucher.error, { missing: "No voucher of yours has this address." })}{" "}
        <Link href="/vouchers">My vouchers</Link>
      </p>
    );
  }
  const v = voucher.data;
  return (
    <article className="voucher">
      <BackLink href="/vouchers">My vouchers</BackLink>
      <h1>{v.dealTitle}</h1>
      <p className="voucher-merchant">
        <strong>{v.merchantName}</strong>
        <br />
        <span className="muted">{v.merchantAddress}</span>
      </p>
      <p>
        <VoucherStateBadge state={v.state} />{" "}
        {v.state === "active" && (
          <span data-testid="voucher-expiry">Valid until {v.expiresAt.toLocaleString()}</span>
        )}
      </p>
      {v.state === "active" ? (
        <>
          <VoucherQrCode token={v.token} />
          <p className="voucher-hint">Show this code at the counter. It works once.</p>
          <label className="voucher-token">
            <span>Code for manual entry</span>
            <textarea readOnly value={v.token} rows={5} data-testid="voucher-token" />
          </label>
          <button
            type="button"
            className="link-button"
            disabled={cancel.isPending}
            onClick={() => {
              const refund =
                v.priceCents > 0
                  ? ` You will be refunded ${formatPrice(v.priceCents, v.currency)}.`
                  : "";
              if (
                window.confirm(
                  `Cancel this voucher? The unit goes back on sale for someone else, and you cannot claim this deal again.${refund}`,
                )
              ) {
                cancel.mutate({ claimId: v.claimId });
              }
            }}
          >
            Cancel this voucher
          </button>
          {cancel.isError && <p className="error">{apiErrorMessage(cancel.error)}</p>}
        </>
      ) : (
        <p className={`voucher-gone voucher-gone-${v.state}`} role="status">
          {NOT_USABLE[v.state]}
          {v.state === "redeemed" && v.redeemedAt ? ` (${v.redeemedAt.toLocaleString()})` : ""}
        </p>
      )}
    </article>
  );
}

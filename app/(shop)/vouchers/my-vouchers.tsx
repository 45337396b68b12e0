"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { signInHref } from "@/lib/security/return-path";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";
import { VoucherStateBadge } from "./voucher-state-badge";

export function MyVouchers() {
  const trpc = useTRPC();
  const vouchers = useQuery(trpc.vouchers.mine.queryOptions());
  if (vouchers.isPending) return <p className="muted">Loading…</p>;
  if (vouchers.isError) {
    return (
      <p className="error">
        {apiErrorMessage(vouchers.error)} <Link href={signInHref("/vouchers")}>Sign in</Link>
      </p>
    );
  }
  if (vouchers.data.length === 0) {
    return (
      <p className="muted">
        No vouchers yet: claim a deal and its voucher appears here.{" "}
        <Link href="/">See the deals</Link>
      </p>
    );
  }
  return (
    <ul className="claim-list">
      {vouchers.data.map((voucher) => (
        <li key={voucher.id} className="card voucher-row" data-testid="my-voucher">
          <div>
            <strong>{voucher.dealTitle}</strong>
            <span className="muted"> · {voucher.merchantName}</span>
            <div>
              <VoucherStateBadge state={voucher.state} />{" "}
              <span className="muted">valid until {voucher.expiresAt.toLocaleString()}</span>
            </div>
          </div>
          <Link className="button button-small" href={`/vouchers/${voucher.id}`}>
            {voucher.state === "active" ? "Show QR" : "Details"}
          </Link>
        </li>
      ))}
    </ul>
  );
}

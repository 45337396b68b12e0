import type { VoucherState } from "@/lib/vouchers/voucher-format";

const LABELS: Record<VoucherState, string> = {
  active: "ready to use",
  redeemed: "redeemed",
  expired: "expired",
  cancelled: "cancelled",
};

export function VoucherStateBadge({ state }: { state: VoucherState }) {
  return <span className={`badge badge-voucher-${state}`}>{LABELS[state]}</span>;
}

import type { Metadata } from "next";
import { RedemptionHistory } from "./redemption-history";

export const metadata: Metadata = { title: "Redemptions" };

export default function RedemptionsPage() {
  return (
    <>
      <h1>Redemptions</h1>
      <p className="admin-lead">
        Vouchers redeemed at shop counters, newest first as they reached Dealdrop. Devices that were
        offline send theirs when they reconnect, so a redemption can arrive long after it happened.
      </p>
      <RedemptionHistory />
    </>
  );
}

import type { Metadata } from "next";
import { DealList } from "../../_deal-console/deal-list";

export const metadata: Metadata = { title: "Your deals · Dealdrop" };

export default function MerchantDealsPage() {
  return <DealList audience="merchant" />;
}

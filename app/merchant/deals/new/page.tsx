import type { Metadata } from "next";
import { NewDeal } from "../../../_deal-console/new-deal";

export const metadata: Metadata = { title: "New deal · Dealdrop" };

export default function MerchantNewDealPage() {
  return <NewDeal audience="merchant" />;
}

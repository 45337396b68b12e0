import type { Metadata } from "next";
import { NewDeal } from "../../../_deal-console/new-deal";

export const metadata: Metadata = { title: "New deal" };

export default function AdminNewDealPage() {
  return <NewDeal audience="admin" />;
}

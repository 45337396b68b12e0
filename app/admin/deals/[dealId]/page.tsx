import type { Metadata } from "next";
import { DealConsolePage } from "../../../_deal-console/deal-console-page";

export const metadata: Metadata = { title: "Deal" };

export default async function AdminDealPage(props: { params: Promise<{ dealId: string }> }) {
  const { dealId } = await props.params;
  return <DealConsolePage dealId={dealId} audience="admin" />;
}

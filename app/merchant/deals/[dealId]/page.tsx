import type { Metadata } from "next";
import { DealConsolePage } from "../../../_deal-console/deal-console-page";

export const metadata: Metadata = { title: "Deal · Dealdrop" };

export default async function MerchantDealPage(props: { params: Promise<{ dealId: string }> }) {
  const { dealId } = await props.params;
  return <DealConsolePage dealId={dealId} audience="merchant" />;
}

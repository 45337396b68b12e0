import type { Metadata } from "next";
import { MerchantDetail } from "./merchant-detail";

export const metadata: Metadata = { title: "Merchant" };

export default async function MerchantPage({
  params,
}: {
  params: Promise<{ merchantId: string }>;
}) {
  const { merchantId } = await params;
  return <MerchantDetail merchantId={merchantId} />;
}

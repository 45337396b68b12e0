import { DealDetail } from "./deal-detail";

export default async function DealPage(props: { params: Promise<{ dealId: string }> }) {
  const { dealId } = await props.params;
  return <DealDetail dealId={dealId} />;
}

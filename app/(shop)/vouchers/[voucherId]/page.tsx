import { VoucherDetail } from "./voucher-detail";

export default async function VoucherPage(props: { params: Promise<{ voucherId: string }> }) {
  const { voucherId } = await props.params;
  return <VoucherDetail voucherId={voucherId} />;
}

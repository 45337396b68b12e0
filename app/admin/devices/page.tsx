import type { Metadata } from "next";
import { DeviceList } from "./device-list";

export const metadata: Metadata = { title: "Devices" };

export default async function DevicesPage({
  searchParams,
}: {
  searchParams: Promise<{ merchant?: string }>;
}) {
  const { merchant } = await searchParams;
  return (
    <>
      <h1>Counter devices</h1>
      <p className="admin-lead">
        Phones and tablets that check vouchers at shop counters, offline if need be. Revoke a lost
        or stolen one: from then on Dealdrop refuses everything it sends.
      </p>
      <DeviceList key={merchant ?? "all"} initialMerchantId={merchant ?? null} />
    </>
  );
}

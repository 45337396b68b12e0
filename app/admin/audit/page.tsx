import type { Metadata } from "next";
import { AuditLog } from "./audit-log";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<{ merchant?: string }>;
}) {
  const { merchant } = await searchParams;
  return (
    <>
      <h1>Audit log</h1>
      <p className="admin-lead">
        Every change admins and staff made (deals, merchants, staff, devices, keys), newest first:
        who did it, when, and what changed.
      </p>
      <AuditLog key={merchant ?? "all"} initialMerchantId={merchant ?? null} />
    </>
  );
}

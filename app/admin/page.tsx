import type { Metadata } from "next";
import { DealList } from "../_deal-console/deal-list";

export const metadata: Metadata = { title: "Sales" };

export default function AdminSalesPage() {
  return <DealList audience="admin" />;
}

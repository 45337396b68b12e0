import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { ConsoleNav } from "../_deal-console/console-nav";

const SECTIONS = [
  { href: "/merchant", label: "Counter", exact: true },
  { href: "/merchant/deals", label: "Deals" },
  { href: "/merchant/devices", label: "Devices" },
];

export const metadata: Metadata = {
  title: "Dealdrop Counter",
  description: "Check Dealdrop vouchers at the counter, online or offline.",
  manifest: "/merchant/manifest.webmanifest",
  appleWebApp: { capable: true, title: "Dealdrop Counter" },
};

export const viewport: Viewport = { themeColor: "#1f2328" };

export default function CounterLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="site-header counter-header">
        <span className="brand">
          Deal<span>drop</span> <small>Counter</small>
        </span>
        <ConsoleNav label="Shop" links={SECTIONS} />
      </header>
      <main className="page counter">{children}</main>
    </>
  );
}

import type { ReactNode } from "react";
import { SiteHeader } from "./site-header";

export default function ShopLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <SiteHeader />
      <main className="page">{children}</main>
    </>
  );
}

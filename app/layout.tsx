import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { TrpcReactProvider } from "@/lib/trpc/client";
import "./globals.css";

export const metadata: Metadata = {
  title: "Dealdrop — flash deals near you",
  description: "Claim time-boxed deals from shops around you.",
};

export const viewport: Viewport = { themeColor: "#e8590c", width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request, never prerendered: Next can put a page's nonce (proxy.ts) only on
  // a page it renders for that request.
  await connection();
  return (
    <html lang="en">
      <body>
        <TrpcReactProvider>{children}</TrpcReactProvider>
      </body>
    </html>
  );
}

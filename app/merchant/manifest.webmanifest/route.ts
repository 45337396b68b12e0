export const dynamic = "force-static";

/** The counter app's web manifest: installable, scoped to /merchant. */
export function GET() {
  return Response.json(
    {
      name: "Dealdrop Counter",
      short_name: "Counter",
      description: "Check Dealdrop vouchers at the counter, online or offline.",
      id: "/merchant",
      start_url: "/merchant",
      scope: "/merchant",
      display: "standalone",
      orientation: "portrait",
      background_color: "#f7f7f5",
      theme_color: "#1f2328",
      icons: [
        { src: "/icons/counter-192.png", sizes: "192x192", type: "image/png" },
        { src: "/icons/counter-512.png", sizes: "512x512", type: "image/png" },
        { src: "/icons/counter-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
      ],
    },
    { headers: { "Content-Type": "application/manifest+json" } },
  );
}

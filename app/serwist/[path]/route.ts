import { randomUUID } from "node:crypto";
import { createSerwistRoute } from "@serwist/turbopack";

/**
 * Serves the counter app's service worker, built from app/merchant/sw.ts at build time.
 * Only _next/static and public/ are precached by default; the app's HTML is added here,
 * with a revision per build so a new build replaces the cached page.
 */
const revision = randomUUID();

export const { dynamic, dynamicParams, revalidate, generateStaticParams, GET } = createSerwistRoute(
  {
    swSrc: "app/merchant/sw.ts",
    useNativeEsbuild: true,
    additionalPrecacheEntries: ["/merchant", "/merchant/manifest.webmanifest", "/icon.svg"].map(
      (url) => ({ url, revision }),
    ),
  },
);

import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { TRPC_ENDPOINT, TRPC_MAX_BATCH } from "@/lib/trpc/trpc-wire";
import type { AppRouter } from "@/server/api/root";
import { readDevice } from "./device-store";

/**
 * The API as the counter device calls it: the staff session cookie goes along by itself
 * (for enrolment), and the device credential from IndexedDB in a header (for everything else).
 */
export const deviceApi = createTRPCClient<AppRouter>({
  links: [
    httpBatchLink({
      url: TRPC_ENDPOINT,
      transformer: superjson,
      maxItems: TRPC_MAX_BATCH,
      async headers() {
        const device = await readDevice();
        return device ? { "x-device-credential": device.credential } : {};
      },
    }),
  ],
});

/** The domain code of an API error (DEVICE_REVOKED, …), or null for a network failure. */
export function domainCodeOf(error: unknown): string | null {
  if (error instanceof TRPCClientError) {
    const data = error.data as { domainCode?: string; code?: string } | undefined;
    return data?.domainCode ?? data?.code ?? null;
  }
  return null;
}

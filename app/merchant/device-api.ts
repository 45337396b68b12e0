import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";
import { TRPC_ENDPOINT, TRPC_MAX_BATCH } from "@/lib/trpc/trpc-wire";
import { readApiError } from "@/lib/wire/read-api-error";
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

/** The domain code of an API error (DEVICE_REVOKED, …), else its wire code, or null offline. */
export function domainCodeOf(error: unknown): string | null {
  const read = readApiError(error);
  return read.code === "NETWORK" ? null : (read.domainCode ?? read.code);
}

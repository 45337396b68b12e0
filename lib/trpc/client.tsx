"use client";

import {
  MutationCache,
  QueryCache,
  QueryClient,
  QueryClientProvider,
  type QueryKey,
} from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { type ReactNode, useState } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root";
import { readApiError } from "../wire/read-api-error";
import { TRPC_ENDPOINT, TRPC_MAX_BATCH } from "./trpc-wire";

const isWhoAmI = (key: QueryKey) => {
  const [path] = key;
  return Array.isArray(path) && path[0] === "auth" && path[1] === "me";
};

/**
 * A session the server ended (signed out elsewhere, deactivated, a role changed) is refused
 * with UNAUTHORIZED at the page's next request: every page's header then asks again who is
 * signed in, and shows the person signed out.
 */
function signedOutOnRefusal(client: () => QueryClient) {
  return (error: unknown) => {
    if (readApiError(error).code !== "UNAUTHORIZED") return;
    void client().invalidateQueries({ predicate: (query) => isWhoAmI(query.queryKey) });
  };
}

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function TrpcReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(() => {
    const onError = signedOutOnRefusal(() => made);
    const made: QueryClient = new QueryClient({
      defaultOptions: { queries: { staleTime: 5_000, retry: 1 } },
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
    });
    return made;
  });
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        // Subscriptions (the admin's live sale monitor) over Server-Sent Events; everything else batched.
        splitLink({
          condition: (operation) => operation.type === "subscription",
          true: httpSubscriptionLink({ url: TRPC_ENDPOINT, transformer: superjson }),
          false: httpBatchLink({
            url: TRPC_ENDPOINT,
            transformer: superjson,
            maxItems: TRPC_MAX_BATCH,
          }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

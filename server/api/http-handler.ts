import "server-only";
import type { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { TRPC_ENDPOINT, TRPC_MAX_BATCH } from "@/lib/trpc/trpc-wire";
import { log } from "../log";
import { serveWithRequestId } from "../observability/request-log";
import type { Services } from "../services";
import { type Caller, createRequestContext } from "./context";
import { appRouter } from "./root";
import { refusedStreamResponse } from "./stream-procedures";

/**
 * Serves one tRPC HTTP request (fetch API). The HTTP edge (server/http/trpc-route.ts) calls it
 * with the caller it found from the socket; tests call it with a caller of their own. A
 * `refusal` (the edge's: too large, cross-site, not JSON) is every call's answer, in tRPC's
 * error shape, and no procedure runs.
 */
export function handleTrpcRequest(
  services: Services,
  req: Request,
  caller: Caller,
  refusal?: TRPCError,
): Promise<Response> {
  return serveWithRequestId(
    req,
    () => procedurePaths(req.url),
    () =>
      fetchRequestHandler({
        endpoint: TRPC_ENDPOINT,
        req,
        router: appRouter,
        maxBatchSize: TRPC_MAX_BATCH,
        createContext: ({ resHeaders }) => {
          if (refusal) throw refusal;
          return createRequestContext(services, req, resHeaders, caller);
        },
        responseMeta: ({ ctx }) => refusedStreamResponse(ctx?.resHeaders) ?? {},
        onError({ error, path }) {
          if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error, path }, "tRPC error");
        },
      }),
  );
}

/** `claims.claim`, or `a,b` for a batch. */
function procedurePaths(url: string): string {
  const { pathname } = new URL(url);
  return pathname.slice(pathname.indexOf(TRPC_ENDPOINT) + TRPC_ENDPOINT.length + 1);
}

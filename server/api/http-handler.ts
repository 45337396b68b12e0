import "server-only";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { log } from "../log";
import { serveWithRequestId } from "../observability/request-log";
import type { Services } from "../services";
import { createRequestContext } from "./context";
import { appRouter } from "./root";
import { refusedStreamResponse } from "./stream-procedures";

const ENDPOINT = "/api/trpc";

/** Serves one tRPC HTTP request (fetch API), for the Next route and for tests alike. */
export function handleTrpcRequest(services: Services, req: Request): Promise<Response> {
  return serveWithRequestId(
    req,
    () => procedurePaths(req.url),
    () =>
      fetchRequestHandler({
        endpoint: ENDPOINT,
        req,
        router: appRouter,
        createContext: ({ resHeaders }) => createRequestContext(services, req, resHeaders),
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
  return pathname.slice(pathname.indexOf(ENDPOINT) + ENDPOINT.length + 1);
}

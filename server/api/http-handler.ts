import "server-only";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { log } from "../log";
import type { Services } from "../services";
import { createRequestContext } from "./context";
import { appRouter } from "./root";

/** Serves one tRPC HTTP request (fetch API), for the Next route and for tests alike. */
export function handleTrpcRequest(services: Services, req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => createRequestContext(services, req, resHeaders),
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error, path }, "tRPC error");
    },
  });
}

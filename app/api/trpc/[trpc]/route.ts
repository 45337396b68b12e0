import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createRequestContext } from "@/server/api/context";
import { appRouter } from "@/server/api/root";
import { log } from "@/server/log";
import { getServices } from "@/server/services";

async function handler(req: Request) {
  const services = await getServices();
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

export { handler as GET, handler as POST };

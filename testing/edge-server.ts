import type { AddressInfo } from "node:net";
import { parseEnv } from "@/server/env";
import { createEdgeServer, type NodeHandler } from "@/server/http/http-edge";
import { createNodeTrpcRoute } from "@/server/http/trpc-route";
import { createServices, type Services } from "@/testing/wired-services";
import type { TestDatabase } from "./test-database";
import { TEST_REDIS_URL } from "./test-redis";

/** Services in server mode on a test's own database and Redis key prefix. */
export function createServerModeServices(
  database: TestDatabase,
  prefix: string,
  env: Record<string, string>,
): Promise<Services> {
  return createServices(
    parseEnv({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ...env,
    }),
  );
}

/**
 * The app server's HTTP edge (tRPC, claims, live stock; `fallback` standing for Next) on a
 * port of `host`, as server/http/main.ts runs it.
 */
export async function serveEdge(services: Services, host: string, fallback: NodeHandler) {
  const server = createEdgeServer(services, { trpc: createNodeTrpcRoute, fallback });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    baseUrl: `http://${host}:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

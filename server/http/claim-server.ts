/**
 * The claim server: the claim route and the live-stock route (and its process's
 * `/api/metrics`) alone, in a process of its own, without Next.js.
 * Next keeps AsyncLocalStorage hooks and a patched Date active for every promise in its
 * process; on its own the route costs about a third of the CPU (see README, "The claim
 * route"). Deployed beside the app on the same origin: the proxy in front sends
 * `POST /api/claim` and `GET /api/deals/<id>/stock` here and everything else to `npm start`. Built into dist/claim-server.mjs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { isLiveStockPath } from "@/lib/deals/live-stock";
import { EnvError, parseEnv } from "../env";
import { log } from "../log";
import { serveMetrics } from "../observability/metrics-endpoint";
import { getServices, type Services } from "../services";
import { createNodeClaimRoute, LISTEN_BACKLOG } from "./claim-route";
import { answerUnparsableRequests } from "./client-errors";
import { createNodeStockRoute } from "./stock-route";

async function main() {
  Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "production" });
  const env = parseEnv();
  const port = env.PORT;
  const hostname = process.env.HOSTNAME || "0.0.0.0";
  const services = await getServices();
  const serveClaim = createNodeClaimRoute(services);
  const serveStock = createNodeStockRoute(services);
  const server = createServer((req, res) => {
    if (req.url === CLAIM_ROUTE) return void serveClaim(req, res);
    if (isLiveStockPath(req.url)) return void serveStock(req, res);
    if (req.url === "/api/metrics") return void serveMetricsOnNode(services, req, res);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        error: {
          code: "NOT_FOUND",
          message: `Only ${CLAIM_ROUTE}, live stock and /api/metrics are served here.`,
        },
      }),
    );
  });
  answerUnparsableRequests(server);
  server.keepAliveTimeout = 65_000;
  server.listen({ port, host: hostname, backlog: LISTEN_BACKLOG }, () =>
    log.info(`Claim server on http://${hostname}:${port}${CLAIM_ROUTE}`),
  );
  const stop = () => {
    server.close();
    server.closeIdleConnections();
    void services.stop().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/** This process's own metrics (its claims), the same endpoint and token as the app's. */
async function serveMetricsOnNode(services: Services, req: IncomingMessage, res: ServerResponse) {
  const request = new Request("http://claim-server/api/metrics", {
    headers: { authorization: req.headers.authorization ?? "" },
  });
  const response = await serveMetrics(services, request);
  res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});

/**
 * The claim server: the claim route and the live-stock route (and its process's
 * `/api/metrics`) alone, in a process of its own, without Next.js.
 * Next keeps AsyncLocalStorage hooks and a patched Date active for every promise in its
 * process; on its own the route costs about a third of the CPU (see README, "The claim
 * route"). Deployed beside the app on the same origin: the proxy in front sends
 * `POST /api/claim` and `GET /api/deals/<id>/stock` here and everything else to `npm start`. Built into dist/claim-server.mjs.
 */
import cluster from "node:cluster";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { isLiveStockPath } from "@/lib/deals/live-stock";
import { EnvError, parseEnv } from "../env";
import { log } from "../log";
import { answerMetrics } from "../observability/metrics-endpoint";
import { createSecurityHeaderSetter, servedOverHttps } from "../security/security-headers";
import { getServices, type Services } from "../services";
import { createNodeClaimRoute, LISTEN_BACKLOG } from "./claim-route";
import { clusterMetrics, joinClaimWorkers, runClaimWorkers } from "./claim-workers";
import { answerUnparsableRequests } from "./client-errors";
import { createNodeStockRoute } from "./stock-route";

async function main() {
  Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "production" });
  const env = parseEnv();
  if (cluster.isPrimary && env.CLAIM_WORKERS > 1) return runClaimWorkers(env.CLAIM_WORKERS);
  const port = env.PORT;
  const hostname = process.env.HOSTNAME || "0.0.0.0";
  const services = await getServices();
  if (cluster.isWorker) joinClaimWorkers(() => services.metrics.reportToClusterPrimary());
  const serveClaim = createNodeClaimRoute(services);
  const serveStock = createNodeStockRoute(services);
  const setSecurityHeaders = createSecurityHeaderSetter({ https: servedOverHttps(env.PUBLIC_URL) });
  const server = createServer((req, res) => {
    setSecurityHeaders(req.url, res);
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
  let stopping = false;
  const stop = () => {
    // A Ctrl-C reaches a worker directly and again through its primary's SIGTERM.
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    void services.stop().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/**
 * The claim server's metrics (its claims; every worker's, summed, when it runs several), the
 * same endpoint and token as the app's.
 */
async function serveMetricsOnNode(services: Services, req: IncomingMessage, res: ServerResponse) {
  try {
    const { status, headers, body } = await answerMetrics(
      services,
      req.headers.authorization,
      cluster.isWorker ? clusterMetrics : undefined,
    );
    res.writeHead(status, headers).end(body);
  } catch (error) {
    log.error({ err: error }, "metrics not collected");
    res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "1" });
    res.end("Metrics could not be collected; try again.\n");
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});

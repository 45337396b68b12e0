/**
 * The claim server: the claim route and the live-stock route (and its process's
 * `/api/metrics`) alone, in a process of its own, without Next.js.
 * Next keeps AsyncLocalStorage hooks and a patched Date active for every promise in its
 * process; on its own the route costs about a third of the CPU (see README, "The claim
 * route"). Deployed beside the app on the same origin: the proxy in front (deploy/nginx.conf)
 * sends `POST /api/claim` and `GET /api/deals/<id>/stock` here and everything else to
 * `npm start`. `/healthz` and `/readyz` as on the app server; SIGTERM drains it
 * (graceful-stop.ts). Built into dist/claim-server.mjs.
 */
import "../load-env";
import cluster from "node:cluster";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { EnvError, parseEnv } from "../env";
import { log } from "../log";
import { getServices } from "../services";
import { LISTEN_BACKLOG } from "./claim-route";
import { clusterMetrics, joinClaimWorkers, runClaimWorkers } from "./claim-workers";
import { gracefulStopMs, stopGracefullyOnSignals } from "./graceful-stop";
import { createEdgeServer } from "./http-edge";
import { jsonAnswer, sendAnswer } from "./json-answer";
import { createNodeMetricsRoute } from "./metrics-route";
import { describeProxyTrust } from "./proxy-trust";

async function main() {
  Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "production" });
  const env = parseEnv();
  if (cluster.isPrimary && env.CLAIM_WORKERS > 1) {
    return runClaimWorkers(env.CLAIM_WORKERS, gracefulStopMs(env));
  }
  const port = env.PORT;
  const hostname = env.HOSTNAME || "0.0.0.0";
  const services = await getServices();
  if (cluster.isWorker) joinClaimWorkers(() => services.metrics.reportToClusterPrimary());
  // The claim server's metrics: its claims, every worker's summed when it runs several.
  const serveMetrics = createNodeMetricsRoute(
    services,
    cluster.isWorker ? clusterMetrics : undefined,
  );
  const notHere = {
    code: "NOT_FOUND" as const,
    message: `Only ${CLAIM_ROUTE}, live stock, /healthz, /readyz and /api/metrics are served here.`,
  };
  const server = createEdgeServer(services, {
    fallback: (req, res) => {
      if (req.url === "/api/metrics") return serveMetrics(req, res);
      sendAnswer(req, res, jsonAnswer(404, { error: notHere }, "GET"));
    },
  });
  server.listen({ port, host: hostname, backlog: LISTEN_BACKLOG }, () => {
    log.info(`Claim server on http://${hostname}:${port}${CLAIM_ROUTE}`);
    log.info(`Client addresses: ${describeProxyTrust(env.TRUSTED_PROXIES)}`);
  });
  stopGracefullyOnSignals(server, services);
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});

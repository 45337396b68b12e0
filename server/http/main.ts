/**
 * The production server: one node:http server on one port. It answers the claim route and
 * the live-stock route itself and hands every other request to Next.js. Built by
 * server/http/build.mjs into dist/server.mjs and started by `npm start`.
 */
import { createServer } from "node:http";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { isLiveStockPath } from "@/lib/deals/live-stock";
import { EnvError, parseEnv } from "../env";
import { log } from "../log";
import { getServices } from "../services";
import { createNodeClaimRoute, LISTEN_BACKLOG } from "./claim-route";
import { answerUnparsableRequests } from "./client-errors";
import { createNodePaymentWebhookRoute, isPaymentWebhookPath } from "./payment-webhook-route";
import { createNodeStockRoute } from "./stock-route";

async function main() {
  // As `next start` does: the production build, and the rules for production configuration.
  Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "production" });
  const { default: next } = await import("next");
  const env = parseEnv();
  const hostname = process.env.HOSTNAME || "0.0.0.0";
  // The same services object serves this file and Next's routes (getServices keeps it on
  // globalThis), so a claim here and a page there see one engine, one pool, one Redis.
  const services = await getServices();
  const app = next({ dev: false, dir: process.cwd(), hostname, port: env.PORT });
  await app.prepare();
  const handleNext = app.getRequestHandler();
  const serveClaim = createNodeClaimRoute(services);
  const serveStock = createNodeStockRoute(services);
  const servePaymentWebhook = createNodePaymentWebhookRoute(services);

  const server = createServer((req, res) => {
    if (req.url === CLAIM_ROUTE) return void serveClaim(req, res);
    if (isLiveStockPath(req.url)) return void serveStock(req, res);
    if (isPaymentWebhookPath(req.url)) return void servePaymentWebhook(req, res);
    void handleNext(req, res);
  });
  // Many shoppers keep a connection open between page loads and claims.
  answerUnparsableRequests(server);
  server.keepAliveTimeout = 65_000;
  server.listen({ port: env.PORT, host: hostname, backlog: LISTEN_BACKLOG }, () => {
    log.info(`Listening on http://${hostname}:${env.PORT} (claims on ${CLAIM_ROUTE})`);
  });

  const stop = (signal: string) => {
    log.info(`${signal}: closing`);
    server.close();
    server.closeIdleConnections();
    void services
      .stop()
      .then(() => app.close())
      .finally(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof EnvError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});

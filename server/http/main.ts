/**
 * The app server: the HTTP edge (server/http/http-edge.ts) on one port, serving the claim
 * route, live stock and tRPC itself, and handing every other request to Next.js. `npm start`
 * runs it built (server/http/build.mjs → dist/server.mjs); `npm run dev` runs the same file
 * with `NODE_ENV=development`, Next then compiling pages on demand.
 */
import "../load-env";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { EnvError, parseEnv } from "../env";
import { log } from "../log";
import { getServices } from "../services";
import { LISTEN_BACKLOG } from "./claim-route";
import { stopGracefullyOnSignals } from "./graceful-stop";
import { createEdgeServer } from "./http-edge";
import { createNodePaymentWebhookRoute, isPaymentWebhookPath } from "./payment-webhook-route";
import { describeProxyTrust } from "./proxy-trust";
import { createNodeTrpcRoute } from "./trpc-route";

async function main() {
  // As `next start` does: the production build, and the rules for production configuration.
  Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "production" });
  const dev = process.env.NODE_ENV === "development";
  const { default: next } = await import("next");
  const env = parseEnv();
  const hostname = env.HOSTNAME || "0.0.0.0";
  // The same services object serves this file and Next's pages (getServices keeps it on
  // globalThis), so a claim here and a page there see one engine, one pool, one Redis.
  const services = await getServices();
  const app = next({ dev, dir: process.cwd(), hostname, port: env.PORT });
  await app.prepare();
  const handleNext = app.getRequestHandler();
  const servePaymentWebhook = createNodePaymentWebhookRoute(services);
  const server = createEdgeServer(services, {
    trpc: createNodeTrpcRoute,
    // A provider's webhook reads its raw body itself (the signature covers the exact bytes).
    fallback: (req, res) =>
      isPaymentWebhookPath(req.url) ? servePaymentWebhook(req, res) : handleNext(req, res),
  });
  server.listen({ port: env.PORT, host: hostname, backlog: LISTEN_BACKLOG }, () => {
    log.info(`Listening on http://${hostname}:${env.PORT} (claims on ${CLAIM_ROUTE})`);
    log.info(`Client addresses: ${describeProxyTrust(env.TRUSTED_PROXIES)}`);
  });

  stopGracefullyOnSignals(server, services, () => app.close());
}

main().catch((error: unknown) => {
  if (error instanceof EnvError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});

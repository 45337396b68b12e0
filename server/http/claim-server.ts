/**
 * The claim server: the claim route alone, in a process of its own, without Next.js.
 * Next keeps AsyncLocalStorage hooks and a patched Date active for every promise in its
 * process; on its own the route costs about a third of the CPU (see README, "The claim
 * route"). Deployed beside the app on the same origin: the proxy in front sends
 * `POST /api/claim` here and everything else to `npm start`. Built into dist/claim-server.mjs.
 */
import { createServer } from "node:http";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { EnvError, parseEnv } from "../env";
import { log } from "../log";
import { getServices } from "../services";
import { createNodeClaimRoute, LISTEN_BACKLOG } from "./claim-route";

async function main() {
  Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "production" });
  const env = parseEnv();
  const port = env.PORT;
  const hostname = process.env.HOSTNAME || "0.0.0.0";
  const services = await getServices();
  const serveClaim = createNodeClaimRoute(services);
  const server = createServer((req, res) => {
    if (req.url === CLAIM_ROUTE) return void serveClaim(req, res);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        error: { code: "NOT_FOUND", message: `Only ${CLAIM_ROUTE} is served here.` },
      }),
    );
  });
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

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});

import "server-only";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { isLiveStockPath } from "@/lib/deals/live-stock";
import { HEALTHZ_PATH, READYZ_PATH } from "@/lib/ops/health-answers";
import { TRPC_ENDPOINT } from "@/lib/trpc/trpc-wire";
import type { Caller } from "../api/context";
import type { Env } from "../env";
import { log } from "../log";
import { createSecurityHeaderSetter, servedOverHttps } from "../security/security-headers";
import type { Services } from "../services";
import { declaredTooLarge } from "./body-reader";
import { createNodeClaimRoute } from "./claim-route";
import { clientAddress, peerIsTrusted } from "./client-address";
import { answerUnparsableRequests } from "./client-errors";
import { createNodeHealthRoute } from "./health-route";
import { INTERNAL_REFUSAL, jsonAnswer, type RouteRefusal, sendAnswer } from "./json-answer";
import { type DrainReport, RequestDrain } from "./request-drain";
import { createNodeStockRoute } from "./stock-route";
import type { createNodeTrpcRoute } from "./trpc-route";
import { malformedUrlRefusal } from "./url-check";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface EdgeOptions {
  /**
   * createNodeTrpcRoute, for the app server to serve `/api/trpc/*`; the claim server leaves it
   * out (and so never loads the router), and such requests go to `fallback`.
   */
  trpc?: typeof createNodeTrpcRoute;
  /** Every other request, once the edge's checks passed: Next's handler, or a 404. */
  fallback: NodeHandler;
}

/**
 * The one HTTP edge of both servers (server/http/main.ts with Next behind it, claim-server.ts
 * without): one node:http request handler that, for every request,
 *  - finds the client's address from the socket (clientAddress, TRUSTED_PROXIES) and hands
 *    it to the route: no route reads X-Forwarded-For itself;
 *  - refuses a URL with a malformed percent-escape (400) and a body declared larger than the
 *    route reads (413), before any route;
 *  - serves the claim route, live stock and tRPC itself, with the socket in hand; each reads
 *    a body once, bounded (body-reader.ts), and refuses cross-site changes (same-origin.ts);
 *  - answers `/healthz` and `/readyz` (health-route.ts), "draining" once `isDraining` says so;
 *  - hands the rest to `fallback` (Next's pages and static files) only with a body it can
 *    bound: none, or one whose declared length is within HTTP_MAX_BODY_BYTES.
 */
export function createHttpEdge(
  services: Services,
  options: EdgeOptions,
  isDraining: () => boolean = () => false,
): NodeHandler {
  const { env } = services;
  const trust = env.TRUSTED_PROXIES;
  const publicOrigin = env.PUBLIC_URL ? new URL(env.PUBLIC_URL).origin : undefined;
  const maxBodyBytes = env.HTTP_MAX_BODY_BYTES;
  const serveClaim = createNodeClaimRoute(services, publicOrigin);
  const serveStock = createNodeStockRoute(services);
  const serveTrpc = options.trpc?.(services, { publicOrigin, maxBodyBytes });
  const serveHealth = createNodeHealthRoute(services.readiness, isDraining);
  const addressOf = (req: IncomingMessage) =>
    clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trust);

  return (req, res) => {
    // The claim route first, on an exact match: a sale's hot path pays for nothing else here.
    if (req.url === CLAIM_ROUTE) return serveClaim(req, res, addressOf(req));
    // Live stock decodes its own id and refuses a malformed one with the id's field error.
    if (isLiveStockPath(req.url)) return serveStock(req, res, addressOf(req));
    if (req.url === HEALTHZ_PATH) return serveHealth(req, res, "healthz");
    if (req.url === READYZ_PATH) return serveHealth(req, res, "readyz");
    const malformed = malformedUrlRefusal(req.url);
    if (serveTrpc && isTrpcPath(req.url)) {
      const caller: Caller = { address: addressOf(req), secure: isHttps(req, env) };
      return serveTrpc(req, res, caller, malformed ?? tooLarge(req, maxBodyBytes));
    }
    const refusal = malformed ?? tooLarge(req, maxBodyBytes) ?? unmeasuredBody(req);
    if (refusal)
      return sendAnswer(req, res, jsonAnswer(refusal.status, { error: refusal.error }, "GET"));
    return options.fallback(req, res);
  };
}

/** A node:http server around the edge, as both servers run it; `drain` is how it stops. */
export interface EdgeServer extends Server {
  /**
   * Stops accepting connections and waits for the requests in hand, up to `deadlineMs`; then
   * cuts whatever is left (see RequestDrain). `/readyz` answers "draining" from the start.
   */
  drain(deadlineMs: number): Promise<DrainReport>;
}

export function createEdgeServer(services: Services, options: EdgeOptions): EdgeServer {
  const requests = new RequestDrain();
  const edge = createHttpEdge(services, options, () => requests.isDraining);
  const setSecurityHeaders = createSecurityHeaderSetter({
    https: servedOverHttps(services.env.PUBLIC_URL),
  });
  const server = createServer((req, res) => {
    requests.track(res);
    // Before any route writes: every answer carries them, and a route may add its own.
    setSecurityHeaders(req.url, res);
    // A route's own failures are answered by the route; this is the last resort.
    Promise.resolve(edge(req, res)).catch((error: unknown) => {
      log.error({ err: error, path: req.url?.slice(0, 200) }, "request failed at the edge");
      if (res.headersSent) return void res.destroy();
      sendAnswer(req, res, jsonAnswer(500, { error: INTERNAL_REFUSAL.error }, "GET"));
    });
  });
  answerUnparsableRequests(server);
  // Many shoppers keep a connection open between page loads and claims.
  server.keepAliveTimeout = 65_000;
  return Object.assign(server, {
    drain: (deadlineMs: number) => requests.drain(server, deadlineMs),
  });
}

const isTrpcPath = (url: string | undefined) =>
  url === TRPC_ENDPOINT ||
  url?.startsWith(`${TRPC_ENDPOINT}/`) ||
  url?.startsWith(`${TRPC_ENDPOINT}?`);

function tooLarge(req: IncomingMessage, limit: number): RouteRefusal | null {
  return declaredTooLarge(req, limit, "A request body")?.refusal ?? null;
}

/** A body with no declared length (chunked) would reach Next unbounded: its length is asked for. */
function unmeasuredBody(req: IncomingMessage): RouteRefusal | null {
  if (req.headers["transfer-encoding"] === undefined || req.headers["content-length"]) return null;
  return {
    status: 411,
    error: { code: "LENGTH_REQUIRED", message: "Send the request body with a Content-Length." },
  };
}

/**
 * Whether the client reached us over HTTPS: PUBLIC_URL says so, the socket is TLS, or a proxy
 * we trust says it terminated TLS (X-Forwarded-Proto). Decides the Secure flag of cookies.
 */
function isHttps(req: IncomingMessage, env: Env): boolean {
  if (env.PUBLIC_URL?.startsWith("https:") || (req.socket as TLSSocket).encrypted) return true;
  const proto = req.headers["x-forwarded-proto"];
  const last = (Array.isArray(proto) ? proto.join(",") : proto)?.split(",").pop()?.trim();
  return last === "https" && peerIsTrusted(req.socket.remoteAddress, env.TRUSTED_PROXIES);
}

import "server-only";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Env } from "../env";
import type { Services } from "../services";
import { serveWithRequestId } from "./request-log";

/**
 * Who may read `/api/metrics`. With `METRICS_TOKEN` set, whoever shows it. Without it the
 * endpoint is open in embedded mode (a demo on one machine) and refused with `DATABASE_URL`
 * set: a deployment's metrics name its traffic, outcomes and process, and a server should
 * not hand them to anyone because a variable was forgotten. Refused rather than a start-up
 * error, since a deployment that scrapes nothing should not need a token to start.
 */
export function metricsAccess(env: Pick<Env, "METRICS_TOKEN" | "DATABASE_URL">) {
  if (env.METRICS_TOKEN) return "token" as const;
  return env.DATABASE_URL ? ("refused" as const) : ("open" as const);
}

/** The start-up line that says how `/api/metrics` is guarded. */
export function describeMetricsAccess(env: Pick<Env, "METRICS_TOKEN" | "DATABASE_URL">) {
  return {
    token: "/api/metrics requires Authorization: Bearer <METRICS_TOKEN>.",
    open: "/api/metrics is open to anyone (embedded mode): set METRICS_TOKEN to require a token.",
    refused:
      "METRICS_TOKEN is not set: /api/metrics answers 403 to everyone until it is (required with DATABASE_URL).",
  }[metricsAccess(env)];
}

/** Answers a Prometheus scrape, as `metricsAccess` allows. */
export function serveMetrics(services: Services, req: Request): Promise<Response> {
  return serveWithRequestId(
    req,
    () => "/api/metrics",
    async () => {
      const { status, headers, body } = await answerMetrics(
        services,
        req.headers.get("authorization"),
      );
      return new Response(body, { status, headers });
    },
  );
}

/**
 * The scrape's answer without a request context (`render`: this process's metrics unless
 * told otherwise). The claim server serves it this way: on Node 20, the first
 * `AsyncLocalStorage.run` turns on a promise hook for the rest of the process's life, and
 * every claim would pay for it after the first scrape.
 */
/** Refusals are typed JSON errors, as every other route answers them; the metrics are text. */
const JSON_REFUSAL = { "content-type": "application/json", "cache-control": "no-store" };
const refusal = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export async function answerMetrics(
  services: Services,
  authorization: string | null | undefined,
  render = () => services.metrics.render(),
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const token = services.env.METRICS_TOKEN;
  if (metricsAccess(services.env) === "refused") {
    return {
      status: 403,
      headers: JSON_REFUSAL,
      body: refusal(
        "FORBIDDEN",
        "Metrics are not served: set METRICS_TOKEN on the server to turn them on.",
      ),
    };
  }
  if (token && !bearerMatches(authorization, token)) {
    return {
      status: 401,
      headers: { ...JSON_REFUSAL, "www-authenticate": 'Bearer realm="metrics"' },
      body: refusal("UNAUTHORIZED", "A valid metrics token is required."),
    };
  }
  const { contentType, body } = await render();
  return {
    status: 200,
    headers: { "content-type": contentType, "cache-control": "no-store" },
    body,
  };
}

/** Compares digests, so neither the token's content nor its length shows in the timing. */
function bearerMatches(header: string | null | undefined, token: string): boolean {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1].trim()), digest(token));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

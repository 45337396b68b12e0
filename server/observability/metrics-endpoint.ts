import "server-only";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Services } from "../services";
import { serveWithRequestId } from "./request-log";

/**
 * Answers a Prometheus scrape. With `METRICS_TOKEN` set, only `Authorization: Bearer <token>`
 * is answered; without it the endpoint is open, for a private network or a demo.
 */
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
export async function answerMetrics(
  services: Services,
  authorization: string | null | undefined,
  render = () => services.metrics.render(),
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const token = services.env.METRICS_TOKEN;
  if (token && !bearerMatches(authorization, token)) {
    return {
      status: 401,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
        "www-authenticate": 'Bearer realm="metrics"',
      },
      body: "A valid metrics token is required.\n",
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

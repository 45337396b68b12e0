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
      const token = services.env.METRICS_TOKEN;
      if (token && !bearerMatches(req.headers.get("authorization"), token)) {
        return new Response("A valid metrics token is required.\n", {
          status: 401,
          headers: {
            "content-type": "text/plain; charset=utf-8",
            "cache-control": "no-store",
            "www-authenticate": 'Bearer realm="metrics"',
          },
        });
      }
      const { contentType, body } = await services.metrics.render();
      return new Response(body, {
        headers: { "content-type": contentType, "cache-control": "no-store" },
      });
    },
  );
}

/** Compares digests, so neither the token's content nor its length shows in the timing. */
function bearerMatches(header: string | null, token: string): boolean {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1].trim()), digest(token));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

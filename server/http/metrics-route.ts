import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { log } from "../log";
import { answerMetrics } from "../observability/metrics-endpoint";
import type { Services } from "../services";
import { jsonAnswer, sendAnswer } from "./json-answer";

type Render = () => Promise<{ contentType: string; body: string }>;

/**
 * `GET /api/metrics` on node:http: this process's metrics, or with `render` every claim
 * worker's, summed (claim-workers.ts). Served without a request context: on Node 20 the first
 * `AsyncLocalStorage.run` turns on a promise hook for the rest of the process's life, and
 * every claim would pay for it after the first scrape.
 */
export function createNodeMetricsRoute(services: Services, render?: Render) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      const refusal = {
        code: "METHOD_NOT_SUPPORTED" as const,
        message: "Metrics are read with GET.",
      };
      return sendAnswer(req, res, jsonAnswer(405, { error: refusal }, "GET"));
    }
    try {
      const { status, headers, body } = await answerMetrics(
        services,
        req.headers.authorization,
        render,
      );
      res.writeHead(status, headers).end(body);
    } catch (error) {
      log.error({ err: error }, "metrics not collected");
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "1" });
      res.end("Metrics could not be collected; try again.\n");
    }
  };
}

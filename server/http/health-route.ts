import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Liveness, Readiness } from "@/lib/ops/health-answers";
import type { ReadinessCheck } from "../health/readiness";
import { jsonAnswer, sendAnswer } from "./json-answer";

const startedAt = Date.now();

/**
 * `GET /healthz` and `GET /readyz` (lib/ops/health-answers.ts), on both servers' edge. Readiness
 * answers 503 "draining" from the moment the server starts stopping, before any check.
 */
export function createNodeHealthRoute(readiness: ReadinessCheck, isDraining: () => boolean) {
  return async (req: IncomingMessage, res: ServerResponse, which: "healthz" | "readyz") => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      const refusal = {
        code: "METHOD_NOT_SUPPORTED" as const,
        message: "Health is read with GET.",
      };
      return sendAnswer(req, res, jsonAnswer(405, { error: refusal }, "GET"));
    }
    if (which === "healthz") {
      const alive: Liveness = {
        status: "alive",
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1_000),
      };
      return send(res, 200, alive);
    }
    if (isDraining()) {
      const draining: Readiness = { status: "draining", checks: {} };
      return send(res, 503, draining);
    }
    const ready = await readiness.check();
    // A drain may have begun while the checks ran.
    if (isDraining()) ready.status = "draining";
    send(res, ready.status === "ready" ? 200 : 503, ready);
  };
}

function send(res: ServerResponse, status: number, body: Liveness | Readiness) {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}

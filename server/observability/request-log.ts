import "server-only";
import type { Level } from "pino";
import { log } from "../log";
import { requestIdOf, runWithRequestId } from "./request-context";

const SLOW_MS = 1_000;

/**
 * Serves one HTTP request in its own request context: every line logged meanwhile carries its
 * id, the response echoes it in `x-request-id`, and one line records the request. That line
 * is at debug for fast answers and for 429s (a flash sale's retries), so a burst does not
 * flood the log at the default level; other 4xx are info, 5xx and slow answers warn.
 * `routeOf` names what was asked for, and runs only when the line is written.
 */
export async function serveWithRequestId(
  req: Request,
  routeOf: () => string,
  handle: () => Promise<Response>,
): Promise<Response> {
  const reqId = requestIdOf(req.headers);
  const started = performance.now();
  let response: Response;
  try {
    response = await runWithRequestId(reqId, handle);
  } catch (error) {
    log.error({ reqId, method: req.method, path: routeOf(), err: error }, "request failed");
    throw error;
  }
  response.headers.set("x-request-id", reqId);
  const durationMs = performance.now() - started;
  const level = levelOf(response.status, durationMs);
  if (log.isLevelEnabled(level)) {
    log[level](
      {
        reqId,
        method: req.method,
        path: routeOf(),
        status: response.status,
        durationMs: Math.round(durationMs * 10) / 10,
      },
      "request",
    );
  }
  return response;
}

function levelOf(status: number, durationMs: number): Level {
  if (status >= 500 || durationMs > SLOW_MS) return "warn";
  if (status >= 400 && status !== 429) return "info";
  return "debug";
}

import fc from "fast-check";
import superjson, { type SuperJSONResult } from "superjson";
import { isLiveStockPath } from "@/lib/deals/live-stock";
import type { PlainRequest, RequestSpec } from "./hostile-http";

/**
 * Headers past node:http's 16 KB limit never reach a route: the HTTP edge's server answers
 * them itself (server/http/client-errors.ts), in the lean routes' JSON error shape.
 */
const HEADERS_TOO_LARGE = 431;
export const NODE_HEADER_LIMIT = 16_384;

/** About what a request's headers weigh against NODE_HEADER_LIMIT. */
export const headerBytes = (headers: Record<string, string>) =>
  Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + value.length, 0);

async function problemWithEdgeRefusal(response: Response): Promise<string | null> {
  const text = await response.text();
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (error?.code === "REQUEST_HEADER_FIELDS_TOO_LARGE" && typeof error.message === "string") {
      return null;
    }
  } catch {}
  return `a 431 without the edge's typed body: ${text.slice(0, 200)}`;
}

/** The statuses a refusal may have: bad request, not signed in or allowed, not found, etc. */
const REFUSAL_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 415, 429]);
const SSE_WAIT_MS = 3_000;
/** `FUZZ_SCALE=20 npx vitest run server/api/fuzz.test.ts` runs twenty times as many cases. */
const SCALE = Number(process.env.FUZZ_SCALE) || 1;

interface ErrorShape {
  message?: unknown;
  data?: { code?: unknown; httpStatus?: unknown; stack?: unknown };
}
type Item = { error?: SuperJSONResult; result?: unknown };

/** What is wrong with a tRPC error shape, if anything: it must be typed, plain and safe. */
function problemWithError(shape: ErrorShape | undefined): string | null {
  const code = shape?.data?.code;
  const message = shape?.message;
  if (typeof code !== "string") return "an error without a tRPC code";
  if (code === "INTERNAL_SERVER_ERROR") return `an internal error: ${String(message)}`;
  if (typeof message !== "string" || message.trim() === "") return `${code} without a message`;
  if (/internal|\n\s+at /i.test(message)) return `${code} with an internal message: ${message}`;
  if (shape?.data?.stack !== undefined) return `${code} with a stack trace`;
  return null;
}

/**
 * The first message of a tRPC SSE stream after `connected`: its error, `"data"` when it
 * streams a value, or null when it ends or goes quiet first.
 */
async function firstStreamedMessage(response: Response): Promise<ErrorShape | "data" | null> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) return null;
  const deadline = Date.now() + SSE_WAIT_MS;
  let text = "";
  try {
    while (Date.now() < deadline) {
      const timeout = new Promise<null>((resolve) =>
        setTimeout(() => resolve(null), deadline - Date.now()),
      );
      const chunk = await Promise.race([reader.read(), timeout]);
      if (!chunk || chunk.done) return null;
      text += chunk.value;
      for (const message of text.split(/\n\n+/).slice(0, -1)) {
        const event = /^event: (.*)$/m.exec(message)?.[1];
        const data = /^data: (.*)$/m.exec(message)?.[1];
        if (event === "serialized-error" && data) {
          return superjson.deserialize<ErrorShape>(JSON.parse(data)) ?? {};
        }
        if (event === undefined && data !== undefined) return "data";
      }
    }
    return null;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export interface Verdict {
  /** Why the answer breaks invariant 8 (a 5xx, an untyped or internal error, success where
   * none was allowed), or null. */
  problem: string | null;
  /** The status and the tRPC codes: what two answers are compared by. */
  outcome: string;
}

/**
 * Judges one answer. `mayAnswer(path)` says whether that procedure may succeed with what was
 * sent (its input was valid, or it takes none). Subscriptions answer 200 and stream the error.
 */
export async function judgeAnswer(
  response: Response,
  spec: RequestSpec,
  mayAnswer: (path: string) => boolean,
): Promise<Verdict> {
  const { status } = response;
  const paths = spec.path.split(",");
  const verdict = (problem: string | null, codes: unknown[] = []) => ({
    problem,
    outcome: [status, ...codes].join(" "),
  });
  if (status >= 500) return verdict(`status ${status}: ${(await response.text()).slice(0, 300)}`);
  if (status === HEADERS_TOO_LARGE) return verdict(await problemWithEdgeRefusal(response), [431]);
  if (spec.method === "HEAD" && status === 204) return verdict(null); // tRPC's warm-up answer
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const message = await firstStreamedMessage(response);
    if (message !== null && message !== "data") {
      return verdict(problemWithError(message), [message.data?.code]);
    }
    const streamed = mayAnswer(paths[0] ?? "") ? null : "a subscription that accepted bad input";
    return verdict(streamed, [message ?? "quiet"]);
  }
  const text = await response.text();
  let body: Item | Item[];
  try {
    body = JSON.parse(text) as Item | Item[];
  } catch {
    return verdict(`status ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  const succeeded = status === 200 || status === 207;
  if (!succeeded && !REFUSAL_STATUSES.has(status)) return verdict(`unexpected status ${status}`);
  const items = Array.isArray(body) ? body : [body];
  const codes: unknown[] = [];
  for (const [index, item] of items.entries()) {
    if (item.error) {
      const error = superjson.deserialize<ErrorShape>(item.error);
      codes.push(error.data?.code);
      const problem = problemWithError(error);
      if (problem) return verdict(`status ${status}: ${problem}`, codes);
    } else if (!succeeded || !mayAnswer(paths[index] ?? "")) {
      return verdict(`status ${status}: ${paths[index]} answered ${text.slice(0, 200)}`, codes);
    } else {
      codes.push("OK");
    }
  }
  return verdict(null, codes);
}

/**
 * What is wrong with a plain route's answer (claim, live stock, metrics, a page), if anything:
 * a 5xx, a stream or a success where none may be, or a refusal that is not the edge's typed
 * JSON `{ error: { code, message } }` (a 405 names what is allowed).
 */
export async function problemWithPlainAnswer(
  response: Response,
  request: PlainRequest,
): Promise<string | null> {
  const { status } = response;
  const said = `${status} to ${request.method} ${request.path.slice(0, 80)}`;
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
    const stream = status === 200 && request.method === "GET" && isLiveStockPath(request.path);
    return stream ? null : `a stream: ${said}`;
  }
  const text = await response.text();
  if (status >= 500) return `${said}: ${text.slice(0, 300)}`;
  if (status < 300) {
    const scrape = request.path === "/api/metrics" && ["GET", "HEAD"].includes(request.method);
    return scrape ? null : `a success: ${said}: ${text.slice(0, 200)}`;
  }
  const edgeOwn = status === 411 || status === HEADERS_TOO_LARGE;
  if (!REFUSAL_STATUSES.has(status) && !edgeOwn) return `unexpected status ${said}`;
  if (status === 405 && !response.headers.get("allow")) return `a 405 without Allow: ${said}`;
  if (response.headers.get("content-type") !== "application/json") return `not JSON: ${said}`;
  if (request.method === "HEAD") return null; // node:http sends a HEAD answer no body
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof error?.code === "string" && typeof error.message === "string" && error.message) {
      return null;
    }
  } catch {}
  return `an untyped refusal: ${said}: ${text.slice(0, 200)}`;
}

export async function problemWithAnswer(
  response: Response,
  spec: RequestSpec,
  mayAnswer: (path: string) => boolean,
): Promise<string | null> {
  return (await judgeAnswer(response, spec, mayAnswer)).problem;
}

/**
 * Checks a property over `runs` generated values, and on failure reports the seed, the
 * replay path and a shortened counterexample (bodies of megabytes are not worth printing).
 */
export async function assertProperty<T>(
  label: string,
  values: fc.Arbitrary<T>,
  check: (value: T) => Promise<string | null>,
  runs: number,
): Promise<void> {
  const details = await fc.check(
    fc.asyncProperty(values, async (value) => {
      const problem = await check(value);
      if (problem) throw new Error(problem);
    }),
    { numRuns: Math.ceil(runs * SCALE) },
  );
  if (!details.failed) return;
  const example = fc.stringify(details.counterexample).slice(0, 600);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : "";
  throw new Error(
    `${label}: ${cause}\n  counterexample: ${example}\n  seed ${details.seed}, path ${details.counterexamplePath}`,
  );
}

import fc from "fast-check";
import type { Payload } from "./hostile-input";

export type ProcedureType = "query" | "mutation" | "subscription";

/** One HTTP request to the tRPC endpoint, before headers for a role are added. */
export interface RequestSpec {
  method: string;
  /** The procedure, or several joined by commas for a batch. */
  path: string;
  search?: string;
  contentType?: string;
  body?: string;
}

/** The request a tRPC client makes: GET with `?input=` for queries and subscriptions, else POST. */
export function callSpec(path: string, type: ProcedureType, payload: Payload): RequestSpec {
  if (type === "mutation") {
    return { method: "POST", path, contentType: "application/json", body: payload };
  }
  return { method: "GET", path, search: `input=${encodeURIComponent(payload)}` };
}

const MEGABYTE = 1_048_576;
/** Bodies of 2 MB: one not JSON at all, one a JSON string (never an object input). */
const HUGE_BODIES = [`<${"x".repeat(2 * MEGABYTE)}`, `{"json":"${"x".repeat(2 * MEGABYTE)}"}`];
const notJson = fc.string({ maxLength: 60 }).map((text) => `<${text}`);

/**
 * Requests that are wrong as HTTP: another method than the procedure's, a content type tRPC
 * does not read, a body that is empty, not JSON or 2 MB, a bad `input=`, a batch of garbage.
 * `payloads` are the inputs to carry where a body or `input=` is well-formed.
 */
export function malformedRequests(
  path: string,
  type: ProcedureType,
  payloads: fc.Arbitrary<Payload>,
): fc.Arbitrary<RequestSpec> {
  const body = fc.oneof(payloads, notJson, fc.constant(""), fc.constantFrom(...HUGE_BODIES));
  const wrongMethod = payloads.map((payload): RequestSpec => {
    const spec = callSpec(path, type === "mutation" ? "query" : "mutation", payload);
    return spec;
  });
  const contentType = fc.constantFrom(
    undefined,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/jsonx",
    "APPLICATION/JSON; charset=utf-16",
  );
  const badInput = fc.oneof(
    fc.oneof(notJson, payloads).map((text) => `input=${encodeURIComponent(text)}`),
    fc.constantFrom(
      "input=%",
      "input=%E0%A4%A",
      "input=",
      "input",
      "input=null",
      "input=1&input=2",
    ),
    fc.constantFrom("connectionParams=%7B", "connectionParams=1", "lastEventId=%00", "batch=yes"),
  );
  const batchPaths = fc.constantFrom(
    `${path},${path}`,
    `${path},no.such.procedure`,
    `${path},sales.monitor`,
    `${path},auth.signOut`,
  );
  const batchInputs = fc.oneof(
    fc.tuple(payloads, payloads).map(([a, b]) => `{"0":${a},"1":${b}}`),
    fc.constantFrom("[1,2]", '"x"', "null", "<"),
  );
  return fc.oneof(
    wrongMethod,
    fc.record({ method: fc.constant("POST"), path: fc.constant(path), contentType, body }),
    fc.record({
      method: fc.constant(type === "mutation" ? "POST" : "GET"),
      path: fc.constant(path),
      contentType: fc.constant("application/json"),
      body: type === "mutation" ? body : fc.constant(undefined),
      search: badInput,
    }),
    fc.record({
      method: fc.constant(type === "mutation" ? "POST" : "GET"),
      path: batchPaths,
      contentType: fc.constant("application/json"),
      body: batchInputs,
      search: batchInputs.map((inputs) => `batch=1&input=${encodeURIComponent(inputs)}`),
    }),
    fc.record({
      method: fc.constantFrom("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      path: fc.constant(path),
      contentType: fc.constantFrom(undefined, "application/json"),
      body: payloads,
    }),
    fc
      .constantFrom("%E0%A4%A", `${path}.nope`, "__proto__", "constructor", "toString", "")
      .map((bad): RequestSpec => ({ method: "GET", path: bad })),
  );
}

/** The URL of the spec's call on the server at `baseUrl`. */
export function urlOf(baseUrl: string, spec: RequestSpec): string {
  return `${baseUrl}/api/trpc/${spec.path}${spec.search ? `?${spec.search}` : ""}`;
}

/** The fetch options of the spec's call, with the given extra headers. */
export function requestInitOf(spec: RequestSpec, headers: Record<string, string>): RequestInit {
  const all: Record<string, string> = { ...headers };
  if (spec.contentType) all["content-type"] = spec.contentType;
  const hasBody = spec.body !== undefined && spec.method !== "GET" && spec.method !== "HEAD";
  return { method: spec.method, headers: all, body: hasBody ? spec.body : undefined };
}

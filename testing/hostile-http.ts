import fc from "fast-check";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import { claimInputSchema } from "@/lib/claims/claim-contract";
import { TRPC_MAX_BATCH } from "@/lib/trpc/trpc-wire";
import { headerText } from "./forged-credentials";
import { bodyText, brokenShaped, type KnownIds, type Payload, validShaped } from "./hostile-input";

export type ProcedureType = "query" | "mutation" | "subscription";

/** One HTTP request to the tRPC endpoint, before headers for a role are added. */
export interface RequestSpec {
  method: string;
  /** The procedure, or several joined by commas for a batch. */
  path: string;
  search?: string;
  contentType?: string;
  body?: string;
  /** Headers a browser or a proxy would set, hostile ones included (see edgeHeaders). */
  headers?: Record<string, string>;
}

/** The request a tRPC client makes: GET with `?input=` for queries and subscriptions, else POST. */
export function callSpec(path: string, type: ProcedureType, payload: Payload): RequestSpec {
  if (type === "mutation") {
    return { method: "POST", path, contentType: "application/json", body: payload };
  }
  return { method: "GET", path, search: `input=${encodeURIComponent(payload)}` };
}

const MEGABYTE = 1_048_576;
/**
 * Bodies of 2 MB (one not JSON at all, one a JSON string, never an object input) and one just
 * past the edge's 256 KB limit: all refused unread (413).
 */
const HUGE_BODIES = [
  `<${"x".repeat(2 * MEGABYTE)}`,
  `{"json":"${"x".repeat(2 * MEGABYTE)}"}`,
  `{"json":"${"x".repeat(262_144)}"}`,
];

/**
 * Headers as another site's page, a proxy or a script might send them: foreign or garbled
 * Origin and Sec-Fetch-Site (a mutation must be refused, 403), garbage X-Forwarded-For, a
 * streaming Accept, odd request ids.
 */
export const edgeHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    origin: fc.oneof(
      fc.constantFrom("https://evil.example", "null", "http://127.0.0.1.evil.example", ""),
      headerText,
    ),
    "sec-fetch-site": fc.oneof(
      fc.constantFrom("cross-site", "same-site", "same-origin", "none"),
      headerText,
    ),
    "x-forwarded-for": fc.oneof(headerText, fc.ipV4(), fc.ipV6(), fc.constant("9".repeat(4_000))),
    accept: fc.constantFrom("application/jsonl", "text/event-stream", "*/*", ""),
    "trpc-accept": fc.constantFrom("application/jsonl", "x"),
    "x-request-id": headerText,
  },
  { requiredKeys: [] },
);
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
  const repeated = (times: number) => Array.from({ length: times }, () => path).join(",");
  const batchPaths = fc.constantFrom(
    `${path},${path}`,
    `${path},no.such.procedure`,
    `${path},sales.monitor`,
    // A procedure that takes no input. (Not auth.signOut: it now ends the caller's session.)
    `${path},auth.me`,
    repeated(TRPC_MAX_BATCH),
    repeated(TRPC_MAX_BATCH + 1), // one past the cap: a 400, and no call runs
    repeated(400),
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
    fc
      .tuple(payloads, edgeHeaders)
      .map(([payload, headers]) => ({ ...callSpec(path, type, payload), headers })),
  );
}

/** The URL of the spec's call on the server at `baseUrl`. */
export function urlOf(baseUrl: string, spec: RequestSpec): string {
  return `${baseUrl}/api/trpc/${spec.path}${spec.search ? `?${spec.search}` : ""}`;
}

/** The fetch options of the spec's call, with the given extra headers. */
export function requestInitOf(spec: RequestSpec, headers: Record<string, string>): RequestInit {
  const all: Record<string, string> = { ...headers, ...spec.headers };
  if (spec.contentType) all["content-type"] = spec.contentType;
  const hasBody = spec.body !== undefined && spec.method !== "GET" && spec.method !== "HEAD";
  return { method: spec.method, headers: all, body: hasBody ? spec.body : undefined };
}

/** A request as it goes on the wire, whatever is wrong with it. */
export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  /** Bytes, so that fetch adds no content type of its own; never sent with GET or HEAD. */
  body?: Uint8Array;
  /** Streamed without a content-length (Transfer-Encoding: chunked), in 1 KB pieces. */
  chunked?: boolean;
}

/** One request to a plain HTTP route of the edge (anything but tRPC), or a page behind it. */
export interface PlainRequest extends RawRequest {
  path: string;
}

/** The fetch options that send a raw request as it is. */
export function rawRequestInit({ method, headers, body, chunked }: RawRequest): RequestInit {
  const sent = method === "GET" || method === "HEAD" ? undefined : body;
  const stream = (bytes: Uint8Array) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 1_024)
          controller.enqueue(bytes.slice(at, at + 1_024));
        controller.close();
      },
    });
  return {
    method,
    headers,
    body: sent && chunked ? stream(sent) : sent,
    ...(sent && chunked ? { duplex: "half" } : {}),
  } as RequestInit;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const UNKNOWN_ID = "AAAAAAAAAAAA";

/**
 * Requests to the edge's plain routes and to the pages behind it: the claim route, live
 * stock (real deals, unknown ones, malformed ids), the claim server's metrics, and paths Next
 * would serve; any method fetch can send, hostile headers and cookies (`cookies`), and bodies
 * of every kind up to past the body limits, sent whole or chunked. A claim body that is
 * valid names no real deal, so nothing can be won.
 */
export function plainRequests(
  known: KnownIds,
  dealIds: string[],
  cookies: fc.Arbitrary<string>,
): fc.Arbitrary<PlainRequest> {
  const segment = fc.oneof(
    fc.constantFrom(...dealIds, UNKNOWN_ID, "short", "%E0%A4%A", "%00", "", "..", "%2F"),
    fc.stringMatching(/^[A-Za-z0-9%._~-]{0,20}$/),
  );
  const path = fc
    .oneof(
      fc.constantFrom(
        CLAIM_ROUTE,
        `${CLAIM_ROUTE}?next=%E0%A4%A`,
        `${CLAIM_ROUTE}/`,
        "/api/metrics",
      ),
      segment.map((id) => `/api/deals/${id}/stock`),
      fc.constantFrom("/", "/deals/%E0%A4%A", "/%zz", "/sign-in?next=%", "//", "/api/../x", "/api"),
      fc.stringMatching(/^\/[A-Za-z0-9%/?=&._-]{0,60}$/),
    )
    .filter((path) => !path.startsWith("/api/trpc"));
  const shaped = fc.oneof(
    brokenShaped(claimInputSchema, known),
    validShaped(claimInputSchema, { ids: [], kids: [] }),
  );
  const body = fc.oneof(
    shaped.map((value) => utf8(bodyText(value))),
    fc.jsonValue().map((value) => utf8(JSON.stringify(value))),
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(
      utf8(`{"dealId":"${UNKNOWN_ID}","idempotencyKey":"${"x".repeat(5_000)}"}`),
      utf8("x".repeat(262_145)),
      utf8(`${"[".repeat(5_000)}${"]".repeat(5_000)}`),
      utf8(""),
    ),
  );
  const contentType = fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
  );
  const headers = fc
    .tuple(
      edgeHeaders,
      fc.option(cookies, { nil: undefined }),
      fc.option(contentType, { nil: undefined }),
    )
    .map(([hostile, cookie, type]) => ({
      ...hostile,
      ...(cookie === undefined ? {} : { cookie }),
      ...(type === undefined ? {} : { "content-type": type }),
    }));
  return fc.record(
    {
      method: fc.constantFrom(
        "POST",
        "POST",
        "GET",
        "GET",
        "HEAD",
        "PUT",
        "DELETE",
        "PATCH",
        "OPTIONS",
        "PROPFIND",
      ),
      path,
      headers,
      body,
      chunked: fc.boolean(),
    },
    { requiredKeys: ["method", "path", "headers"] },
  );
}

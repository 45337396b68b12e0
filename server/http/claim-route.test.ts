import { once } from "node:events";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { claimInputSchema } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import { type ApiErrorBody, fieldErrorsOf, firstInputMessage } from "@/lib/wire/error-contract";
import {
  type ClaimAnswer,
  type ClaimRouteWorld,
  openClaimRouteWorld,
  type RawClaimRequest,
} from "@/testing/claim-route-world";
import { badCookieHeaders, forgedSessionTokens, headerText } from "@/testing/forged-credentials";
import { SESSION_SECRET } from "@/testing/fuzz-world";
import { bodyText, brokenShaped, type KnownIds, validShaped } from "@/testing/hostile-input";
import { assertProperty, headerBytes, NODE_HEADER_LIMIT } from "@/testing/typed-answer";
import { CLAIM_LIMITS } from "../claims/claim-limits";
import type { ClaimService } from "../claims/claim-service";
import { DomainError } from "../errors";
import { log } from "../log";
import { answerClaim, type ClaimHttpRequest } from "./claim-route";

/**
 * POST /api/claim, the lean claim route, served by a real node:http server against real
 * Postgres and Redis (the fuzz world: the demo sale, every role signed in).
 *  1. It answers as the tRPC procedure `claims.claim` does: same outcomes, and refusals with
 *     the same status, tRPC code, domain code, message and field errors.
 *  2. Its own refusals (method, content type, size, not JSON) are typed too.
 *  3. Fuzzed (DESIGN invariant 8): bad input of every kind gets a typed 4xx, never a 5xx, and
 *     changes nothing. `FUZZ_SCALE=20` runs twenty times as many cases.
 */

let world: ClaimRouteWorld;
beforeAll(async () => {
  world = await openClaimRouteWorld();
});
afterAll(() => world?.close());

const key = () => `key-${newId()}`;
const utf8 = (text: string) => new TextEncoder().encode(text);
const JSON_TYPE = { "content-type": "application/json" };
/** A raw POST of `body` (a value sent as JSON, or text as it is) with these headers. */
const post = (headers: Record<string, string>, body: unknown): RawClaimRequest => ({
  method: "POST",
  headers: { ...JSON_TYPE, ...headers },
  body: utf8(typeof body === "string" ? body : JSON.stringify(body)),
});
const headerIfAny = (name: string, value?: string): Record<string, string> =>
  value === undefined ? {} : { [name]: value };
const UNKNOWN_DEAL = "AAAAAAAAAAAA";

describe("the lean route answers as claims.claim does", () => {
  /** The first win, a replay of its key, and another key after it: the same on both paths. */
  function expectWinReplayDuplicate(answers: ClaimAnswer[], win: object) {
    const [first, replay, duplicate] = answers.map((answer) => answer.result);
    expect(first).toEqual({ outcome: "WON", claimId: expect.any(String), replayed: false, ...win });
    expect(replay).toEqual({ ...first, replayed: true });
    expect(duplicate).toEqual({
      outcome: "ALREADY_CLAIMED",
      claimId: (first as { claimId: string }).claimId,
    });
  }

  /** Twin shoppers, one per path, claim the same input, replay it, then try another key. */
  async function claimTwice(dealId: string) {
    const [routeShopper, trpcShopper] = [await world.newShopper(), await world.newShopper()];
    const input = { dealId, idempotencyKey: key() };
    const other = { dealId, idempotencyKey: key() };
    const byRoute: ClaimAnswer[] = [];
    const byTrpc: ClaimAnswer[] = [];
    for (const sent of [input, input, other]) {
      byRoute.push(await world.viaRoute(sent, routeShopper));
      byTrpc.push(await world.viaTrpc(sent, trpcShopper));
    }
    return { input, routeShopper, trpcShopper, byRoute, byTrpc };
  }

  it("a free deal: WON and confirmed with a voucher, the same claim on a replay, then ALREADY_CLAIMED", async () => {
    const { input, routeShopper, trpcShopper, byRoute, byTrpc } = await claimTwice(
      world.deals.free,
    );
    const win = { status: "confirmed", reservedUntil: null, voucherId: expect.any(String) };
    expectWinReplayDuplicate(byRoute, win);
    expectWinReplayDuplicate(byTrpc, win);
    // One engine behind both paths: each replays a key first sent through the other.
    expect(await world.viaTrpc(input, routeShopper)).toEqual(byRoute[1]);
    expect(await world.viaRoute(input, trpcShopper)).toEqual(byTrpc[1]);
  });

  it("a priced deal: WON and reserved, the deadline revived as a Date by postClaim, as superjson does", async () => {
    const { byRoute, byTrpc } = await claimTwice(world.deals.priced);
    const win = { status: "reserved", reservedUntil: expect.any(Date) };
    expectWinReplayDuplicate(byRoute, win);
    expectWinReplayDuplicate(byTrpc, win);
    const holdMs = world.services.env.PRICED_RESERVATION_MS;
    for (const [first] of [byRoute, byTrpc]) {
      const { reservedUntil } = (first as ClaimAnswer).result as { reservedUntil: Date };
      const until = reservedUntil.getTime();
      expect(Math.abs(until - (Date.now() + holdMs))).toBeLessThan(30_000);
    }
  });

  it("sold out, not started and ended: the same outcome on both paths", async () => {
    const shopper = await world.newShopper();
    const outcomes = {
      SOLD_OUT: world.deals.soldOut,
      NOT_STARTED: world.deals.notStarted,
      ENDED: world.deals.ended,
    };
    for (const [outcome, dealId] of Object.entries(outcomes)) {
      const input = { dealId, idempotencyKey: key() };
      const expected = { status: 200, result: { outcome } };
      expect(await world.viaRoute(input, shopper)).toEqual(expected);
      expect(await world.viaTrpc(input, shopper)).toEqual(expected);
    }
  });

  const claimOf = (dealId: string, more = {}) => ({ dealId, idempotencyKey: key(), ...more });
  const paris = { position: { lat: 48.85, lng: 2.35 } };
  type Role = "anonymous" | "shopper" | "staff" | "admin";
  /** [what is wrong, who sends it, the input, "status tRPC-code domain-code"]. */
  // biome-ignore format: a table reads best one row a line
  const refusals: [string, Role, (deals: ClaimRouteWorld["deals"]) => unknown, string][] = [
    ["no session cookie", "anonymous", (d) => claimOf(d.free), "401 UNAUTHORIZED"],
    ["a merchant staff session", "staff", (d) => claimOf(d.free), "403 FORBIDDEN"],
    ["an admin session", "admin", (d) => claimOf(d.free), "403 FORBIDDEN"],
    ["a dealId that is no id", "shopper", () => claimOf("deal-1"), "400 BAD_REQUEST"],
    ["a short idempotencyKey", "shopper", (d) => ({ dealId: d.free, idempotencyKey: "short" }), "400 BAD_REQUEST"],
    ["a position out of range", "shopper", (d) => claimOf(d.free, { position: { lat: 91, lng: 0 } }), "400 BAD_REQUEST"],
    ["every field wrong", "shopper", () => ({ dealId: 7, idempotencyKey: "a b", position: "here" }), "400 BAD_REQUEST"],
    ["no object at all", "shopper", () => [], "400 BAD_REQUEST"],
    ["a deal that does not exist", "shopper", () => claimOf(UNKNOWN_DEAL), "404 NOT_FOUND NOT_FOUND"],
    ["a fenced deal, from Paris", "shopper", (d) => claimOf(d.fenced, paris), "403 FORBIDDEN OUT_OF_AREA"],
    ["a fenced deal, with no position", "shopper", (d) => claimOf(d.fenced), "403 FORBIDDEN OUT_OF_AREA"],
  ];

  it.each(refusals)(
    "%s (as %s): the same status, codes, message and field errors",
    async (_, role, inputOf, answer) => {
      const headers = role === "shopper" ? await world.newShopper() : world.headersOf[role];
      const input = inputOf(world.deals);
      const byRoute = await world.viaRoute(input, headers);
      expect(byRoute).toEqual(await world.viaTrpc(input, headers));
      const { status, error } = byRoute;
      expect([status, error?.code, error?.domainCode].filter(Boolean).join(" ")).toBe(answer);
      if (status === 400) {
        // Every field's errors, and the first of them as "field: message".
        const [field, [first] = []] = Object.entries(error?.fieldErrors ?? {})[0] ?? [];
        expect(error?.message).toBe(`${field}: ${first}`);
      }
    },
  );

  it(`past ${CLAIM_LIMITS.perShopper} attempts of one shopper on one deal within 10 s: RATE_LIMITED on both paths, with Retry-After`, async () => {
    const shopper = await world.newShopper();
    const attempt = () => ({ dealId: world.deals.soldOut, idempotencyKey: key() });
    // The two paths count against one limit: half the attempts go through each.
    for (let i = 0; i < CLAIM_LIMITS.perShopper; i++) {
      const answer = await (i % 2 ? world.viaTrpc : world.viaRoute)(attempt(), shopper);
      expect(answer).toEqual({ status: 200, result: { outcome: "SOLD_OUT" } });
    }
    const limited = {
      status: 429,
      error: {
        code: "TOO_MANY_REQUESTS",
        domainCode: "RATE_LIMITED",
        message: "Too many claim attempts: wait a moment and try again.",
        retryAfterMs: expect.any(Number),
      },
    };
    expect(await world.viaRoute(attempt(), shopper)).toEqual(limited);
    expect(await world.viaTrpc(attempt(), shopper)).toEqual(limited);

    const response = await world.sendToNode(post(shopper, attempt()));
    const { error } = (await response.json()) as { error: ApiErrorBody };
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(CLAIM_LIMITS.windowMs);
    const retryAfter = response.headers.get("retry-after");
    expect(retryAfter).toBe(String(Math.ceil((error.retryAfterMs ?? 0) / 1_000)));
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

/** What two answers are compared by: status, the headers the contract names, and the body. */
async function summaryOf(response: Response) {
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    allow: response.headers.get("allow"),
    retryAfter: response.headers.get("retry-after"),
    body: text ? JSON.parse(text) : null,
  };
}

describe("the route's own refusals", () => {
  /** A claim that would win if the route read it: the refusals must leave it untaken. */
  async function winnableClaim() {
    const shopper = await world.newShopper();
    return { shopper, claim: post(shopper, { dealId: world.deals.free, idempotencyKey: key() }) };
  }

  it("a method other than POST: 405 with Allow: POST, and nothing claimed", async () => {
    const { claim } = await winnableClaim();
    const before = await world.lastingState();
    for (const method of ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const answer = await summaryOf(await world.sendToNode({ ...claim, method }));
      expect(answer, method).toMatchObject({ status: 405, allow: "POST" });
      const body = {
        error: { code: "METHOD_NOT_SUPPORTED", message: "Claims are sent with POST." },
      };
      if (method !== "HEAD") expect(answer.body).toEqual(body); // HEAD answers carry no body
    }
    expect(await world.lastingState()).toEqual(before);
  });

  it("a body that is not application/json: 415, and nothing claimed", async () => {
    const { shopper, claim } = await winnableClaim();
    const before = await world.lastingState();
    const types = [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
    ];
    for (const type of types) {
      const headers = { ...shopper, ...headerIfAny("content-type", type) };
      const answer = await summaryOf(await world.sendToNode({ ...claim, headers }));
      expect(answer, type).toMatchObject({
        status: 415,
        body: {
          error: { code: "UNSUPPORTED_MEDIA_TYPE", message: "Send the claim as application/json." },
        },
      });
    }
    expect(await world.lastingState()).toEqual(before);
  });

  it("a body over 4096 bytes: 413, with a content-length or chunked; 4096 bytes exactly are read", async () => {
    const shopper = await world.newShopper();
    const claim = JSON.stringify({ dealId: UNKNOWN_DEAL, idempotencyKey: key() });
    const padded = (bytes: number) => claim + " ".repeat(bytes - claim.length);
    // 2,049 two-byte characters: under 4096 characters, over 4096 bytes.
    const wide = JSON.stringify({ dealId: "é".repeat(2_049), idempotencyKey: key() });
    const tooLarge = {
      error: { code: "PAYLOAD_TOO_LARGE", message: "A claim is at most 4096 bytes." },
    };
    for (const chunked of [false, true]) {
      const send = async (body: string) =>
        summaryOf(await world.sendToNode({ ...post(shopper, body), chunked }));
      expect((await send(padded(4_096))).status, "4096 bytes").toBe(404); // read, then unknown deal
      for (const body of [padded(4_097), wide, "x".repeat(2_000_000)]) {
        expect(await send(body)).toMatchObject({ status: 413, body: tooLarge });
      }
    }
  });

  it("a body that is not JSON: 400", async () => {
    const shopper = await world.newShopper();
    const claim = JSON.stringify({ dealId: UNKNOWN_DEAL, idempotencyKey: key() });
    for (const body of ["", "{", "dealId=x", "<claim/>", `\uFEFF${claim}`, "{'dealId': 1}"]) {
      expect(await summaryOf(await world.sendToNode(post(shopper, body)))).toMatchObject({
        status: 400,
        body: { error: { code: "BAD_REQUEST", message: "The body is not JSON." } },
      });
    }
  });

  it("a failing claim service: 503 with Retry-After when the gate is unavailable, 500 quoting nothing otherwise", async () => {
    const failWith = (error: Error) => ({
      sessions: world.services.sessions,
      claims: { claim: () => Promise.reject(error) } as unknown as ClaimService,
    });
    const { headers, body } = post(world.headersOf.shopper, {
      dealId: UNKNOWN_DEAL,
      idempotencyKey: key(),
    });
    const request = (): ClaimHttpRequest => ({
      method: "POST",
      header: (name) => headers[name],
      body: async () => Buffer.from(body ?? []).toString(),
      address: "192.0.2.1",
    });
    const answerOf = async (failing: Error) => {
      const { status, headers, body } = await answerClaim(failWith(failing), request());
      return summaryOf(new Response(body, { status, headers }));
    };
    const busy = new DomainError("UNAVAILABLE", "Try again in a moment.", { retryAfterMs: 1_200 });
    const unavailable = await answerOf(busy);
    expect(unavailable).toMatchObject({ status: 503, retryAfter: "2" });
    expect(unavailable.body.error).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      retryAfterMs: 1_200,
    });
    const crash = new Error('relation "claims" does not exist: SELECT secret FROM …');
    const level = log.level;
    log.level = "silent"; // the route logs the crash in full, as it should
    const failed = await answerOf(crash).finally(() => {
      log.level = level;
    });
    expect(failed.status).toBe(500);
    expect(JSON.stringify(failed.body)).not.toMatch(/relation|SELECT|secret/);
  });

  it("a client that hangs up mid-body: a 400 as tRPC gives, not a 500 logged as a route failure", async () => {
    // Phones in a crowd drop connections all the time: each must not be an error with a stack.
    // tRPC answers a body that fails to arrive with 400 BAD_REQUEST and logs nothing.
    const failures = vi.spyOn(log, "error").mockImplementation(() => undefined);
    try {
      const socket = connect(Number(new URL(world.baseUrl).port), "127.0.0.1");
      await once(socket, "connect");
      const { cookie } = world.headersOf.shopper;
      const head = ["POST /api/claim HTTP/1.1", "Host: 127.0.0.1", `Cookie: ${cookie}`];
      const json = ["Content-Type: application/json", "Content-Length: 100", "", '{"dealId":'];
      socket.write([...head, ...json].join("\r\n"));
      await sleep(100); // the route is reading the body
      socket.destroy();
      await sleep(200);
      expect(failures.mock.calls.map(([, message]) => message)).toEqual([]);
    } finally {
      failures.mockRestore();
    }
  });

  it("headers past node:http's 16 KB limit are refused before the route: a typed 431", async () => {
    // The edge's server answers node's parser errors (client-errors.ts), as both servers do.
    const huge = post({ cookie: `dd_session=${"x".repeat(100_000)}` }, { dealId: UNKNOWN_DEAL });
    expect(await summaryOf(await world.sendToNode(huge))).toMatchObject({
      status: 431,
      body: { error: { code: "REQUEST_HEADER_FIELDS_TOO_LARGE" } },
    });
  });
});

// ----------------------------------------------------------------------------------------
// Fuzzing: generated requests, each judged against what the route must answer.

const BODY_LIMIT = 4_096;
/** Cases per property; FUZZ_SCALE multiplies them (typed-answer.ts). */
const RUNS = {
  shopperBodies: 1_200,
  http: 1_000,
  credentials: 600,
  forwardedFor: 400,
};

/** Who a request's credentials make its sender. */
type Sender = "shopper" | "not a shopper" | "nobody";

interface Expected {
  status: number;
  code: string;
  message?: string;
  fieldErrors?: Record<string, string[]>;
}
const NO_SUCH_DEAL = { status: 404, code: "NOT_FOUND", message: "No deal has this id." };
const RATE_LIMITED = {
  status: 429,
  code: "TOO_MANY_REQUESTS",
  message: "Too many claim attempts: wait a moment and try again.",
};

/**
 * The refusal a request must get, in the order the route checks (`claim` in claim-route.ts):
 * method, content type, session, role, size, JSON, schema; the session before the body, so
 * that nobody unknown makes the server read 4 KB. Input the schema accepts names no deal
 * (the generators never send a real deal a valid claim), so it ends at 404.
 */
function expectedRefusal(request: RawClaimRequest, sender: Sender): Expected {
  if (request.method !== "POST") return { status: 405, code: "METHOD_NOT_SUPPORTED" };
  const type = request.headers["content-type"]?.toLowerCase() ?? "";
  if (!type.startsWith("application/json")) return { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" };
  if (sender === "nobody") return { status: 401, code: "UNAUTHORIZED", message: "Sign in first." };
  if (sender === "not a shopper") return { status: 403, code: "FORBIDDEN" };
  const body = request.body ?? new Uint8Array();
  if (body.length > BODY_LIMIT) return { status: 413, code: "PAYLOAD_TOO_LARGE" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return { status: 400, code: "BAD_REQUEST", message: "The body is not JSON." };
  }
  const parsed = claimInputSchema.safeParse(json);
  if (parsed.success) return NO_SUCH_DEAL;
  const fieldErrors = fieldErrorsOf(parsed.error);
  return { status: 400, code: "BAD_REQUEST", message: firstInputMessage(fieldErrors), fieldErrors };
}

/** What is wrong with an answer, if anything: a 5xx, another refusal, an untyped body. */
async function problemWith(response: Response, expected: Expected, method: string) {
  const text = await response.text();
  const { status, headers } = response;
  if (status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  if (status !== expected.status) {
    return `status ${status} where ${expected.status} was due: ${text.slice(0, 300)}`;
  }
  if (headers.get("content-type") !== "application/json") return "not labelled JSON";
  if (status === 405 && headers.get("allow") !== "POST") return "a 405 without Allow: POST";
  if (status === 429 && !(Number(headers.get("retry-after")) >= 1)) return "a 429, no Retry-After";
  if (method === "HEAD" && text === "") return null; // node:http sends a HEAD answer no body
  let error: ApiErrorBody | undefined;
  try {
    ({ error } = JSON.parse(text) as { error?: ApiErrorBody });
  } catch {
    return `a body that is not JSON: ${text.slice(0, 200)}`;
  }
  if (
    typeof error?.code !== "string" ||
    typeof error.message !== "string" ||
    !error.message.trim()
  ) {
    return `an untyped refusal: ${text.slice(0, 200)}`;
  }
  if (error.code !== expected.code) return `code ${error.code} where ${expected.code} was due`;
  if (expected.message !== undefined && error.message !== expected.message) {
    return `message "${error.message}" where "${expected.message}" was due`;
  }
  if (expected.fieldErrors && !isDeepStrictEqual(error.fieldErrors, expected.fieldErrors)) {
    return `fieldErrors ${JSON.stringify(error.fieldErrors)} where ${JSON.stringify(expected.fieldErrors)} were due`;
  }
  return null;
}

/**
 * Sends a request to the claim route and judges the answer. Headers past node's limit never
 * reach the route: they must get the edge's typed 431.
 */
async function problemOnNode(request: RawClaimRequest, sender: Sender) {
  const response = await world.sendToNode(request);
  if (headerBytes(request.headers) <= NODE_HEADER_LIMIT) {
    return problemWith(response, expectedRefusal(request, sender), request.method);
  }
  const headersTooLarge = { status: 431, code: "REQUEST_HEADER_FIELDS_TOO_LARGE" };
  return problemWith(response, headersTooLarge, request.method);
}

const NO_IDS: KnownIds = { ids: [], kids: [] };
const HUGE = "x".repeat(100_000);
/** JSON text of a generated value; a BigInt (JSON has none) as text, nothing as "". */
const jsonText = bodyText;
const POLLUTING = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}';

/**
 * Bodies of every kind: arbitrary JSON; the claim's own shape with a field wrong or missing
 * (real ids included) or well-formed for a deal that does not exist; `__proto__` keys; nesting
 * thousands deep at the top and in `position`; 100 KB strings; literals JSON lacks; random bytes.
 */
function hostileBodies(known: KnownIds): fc.Arbitrary<Uint8Array> {
  const shaped = fc.oneof(
    brokenShaped(claimInputSchema, known),
    validShaped(claimInputSchema, NO_IDS),
  );
  // Half within 4 KB (read and parsed), half past it (refused unread).
  const depth = fc.oneof(
    fc.integer({ min: 500, max: 2_000 }),
    fc.integer({ min: 2_001, max: 20_000 }),
  );
  const text = fc.oneof(
    fc.jsonValue().map((json) => JSON.stringify(json)),
    shaped.map(jsonText),
    shaped.map((value) => {
      const own = value && typeof value === "object" && !Array.isArray(value);
      const fields = own ? jsonText(value).slice(1, -1) : "";
      return `{${POLLUTING}${fields ? `,${fields}` : ""}}`;
    }),
    depth.map((d) => `${"[".repeat(d)}1${"]".repeat(d)}`),
    depth.map(
      (d) =>
        `{"dealId":"${UNKNOWN_DEAL}","idempotencyKey":"deep-nesting","position":${'{"lat":'.repeat(d)}1${"}".repeat(d)}}`,
    ),
    fc.constantFrom(
      `{"dealId":"${HUGE}","idempotencyKey":"huge-string"}`,
      `{"dealId":"${UNKNOWN_DEAL}","idempotencyKey":"${HUGE}"}`,
      `{"dealId":"${UNKNOWN_DEAL}","idempotencyKey":"not-a-number","position":{"lat":NaN,"lng":Infinity}}`,
      `{"dealId":"${UNKNOWN_DEAL}","idempotencyKey":"too-big-a-number","position":{"lat":1e999,"lng":0}}`,
      `{"dealId":"${UNKNOWN_DEAL}","idempotencyKey":"proto-position","position":{"__proto__":{"lat":1,"lng":1}}}`,
      `{"dealId":"\\u0000\\ud800\\u202e","idempotencyKey":"' OR 1=1 --"}`,
      "null",
      "[]",
      '""',
    ),
  );
  return fc.oneof(
    { arbitrary: text.map(utf8), weight: 8 },
    { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map(utf8), weight: 1 },
  );
}

/** POST twice: half the requests get past the method check. */
const METHODS = ["POST", "POST", "GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/jsonx", // passes as JSON, as tRPC's own check (startsWith) lets it too
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "json",
  "",
];

const garbageForwardedFor = fc.oneof(
  headerText,
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom("", ",", " , , ", "unknown", "[::1]:443", "1.2.3.4, 5.6.7.8", "{deal:x}:rl", "*"),
  fc.constant("9".repeat(8_000)),
);

describe("fuzzed: typed 4xx only, never a 5xx, no state change", () => {
  let stateBefore: Record<string, string>;
  let dealIds: Set<string>;
  let forged: string[];
  let crowd: Record<string, string>[];
  let bodies: fc.Arbitrary<Uint8Array>;
  /** A request by `sender` with these headers, never a valid claim for a real deal. */
  let senders: fc.Arbitrary<[Sender, Record<string, string>]>;

  beforeAll(async () => {
    forged = await forgedSessionTokens(SESSION_SECRET, world.staffToken);
    crowd = await Promise.all(Array.from({ length: 16 }, () => world.newShopper()));
    dealIds = new Set(Object.values(world.deals).concat(world.known.ids));
    // Real deals' gates are opened now, so that the first attempt on one is no change of state.
    for (const dealId of Object.values(world.deals))
      await world.services.gateLoader?.ensureLoaded(dealId);
    const wouldClaim = (body: Uint8Array) => {
      try {
        const input = claimInputSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
        return input.success && dealIds.has(input.data.dealId);
      } catch {
        return false;
      }
    };
    bodies = hostileBodies(world.known).filter((body) => !wouldClaim(body));
    const { headersOf } = world;
    senders = fc.oneof(
      fc.constant<[Sender, Record<string, string>]>(["shopper", headersOf.shopper]),
      fc.constantFrom<[Sender, Record<string, string>]>(
        ["not a shopper", headersOf.staff],
        ["not a shopper", headersOf.admin],
        ["nobody", headersOf.anonymous],
        ["nobody", headersOf.device],
      ),
      badCookieHeaders(forged).map((cookie): [Sender, Record<string, string>] => [
        "nobody",
        { cookie },
      ]),
    );
    stateBefore = await world.lastingState();
  });

  it("a signed-in shopper's hostile bodies: 400 with the schema's field errors, 413 past 4 KB, 404 for no deal", async () => {
    await assertProperty(
      "shopper bodies",
      fc.tuple(bodies, fc.boolean()),
      ([body, chunked]) => {
        const request = { ...post(world.headersOf.shopper, ""), body, chunked };
        return problemOnNode(request, "shopper");
      },
      RUNS.shopperBodies,
    );
  });

  it("any method, content type and sender: refused in the route's order (405, 415, 401, 403, 413, 400)", async () => {
    const requests = fc.record({
      sender: senders,
      method: fc.constantFrom(...METHODS),
      contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
      body: bodies,
      chunked: fc.boolean(),
    });
    await assertProperty(
      "methods, content types and senders",
      requests,
      ({ sender: [sender, headers], method, contentType, body, chunked }) => {
        const typed = { ...headers, ...headerIfAny("content-type", contentType) };
        return problemOnNode({ method, headers: typed, body, chunked }, sender);
      },
      RUNS.http,
    );
  });

  it("forged, garbled and missing cookies with a winnable claim: 401, as with no cookie at all", async () => {
    // The claim is valid and its deal live: only the cookie stands between it and a win.
    const winnable = fc
      .constantFrom(world.deals.free, world.deals.priced)
      .map((dealId) => utf8(JSON.stringify({ dealId, idempotencyKey: key() })));
    const cookies = fc.option(badCookieHeaders(forged), { nil: undefined });
    await assertProperty(
      "bad cookies",
      fc.tuple(cookies, fc.oneof(winnable, bodies)),
      ([cookie, body]) => {
        return problemOnNode({ ...post(headerIfAny("cookie", cookie), ""), body }, "nobody");
      },
      RUNS.credentials,
    );
  });

  it("garbage X-Forwarded-For is an address like any other: the gate's outcome or a typed refusal", async () => {
    // These attempts reach the gate (and bump its attempt counters, see lastingState).
    const outcomeOf: Record<string, string> = {
      [world.deals.soldOut]: "SOLD_OUT",
      [world.deals.ended]: "ENDED",
      [world.deals.notStarted]: "NOT_STARTED",
    };
    const attempts = fc.record({
      shopper: fc.constantFrom(...crowd),
      forwardedFor: garbageForwardedFor,
      realIp: fc.option(headerText, { nil: undefined }),
      dealId: fc.constantFrom(...Object.keys(outcomeOf), UNKNOWN_DEAL),
    });
    await assertProperty(
      "X-Forwarded-For",
      attempts,
      async ({ shopper, forwardedFor, realIp, dealId }) => {
        const headers = {
          ...shopper,
          "x-forwarded-for": forwardedFor,
          ...headerIfAny("x-real-ip", realIp),
        };
        const response = await world.sendToNode(post(headers, { dealId, idempotencyKey: key() }));
        if (dealId === UNKNOWN_DEAL) return problemWith(response, NO_SUCH_DEAL, "POST");
        if (response.status === 429) return problemWith(response, RATE_LIMITED, "POST");
        if (response.status !== 200) return `status ${response.status}: ${await response.text()}`;
        const { result } = (await response.json()) as { result: { outcome: string } };
        const due = outcomeOf[dealId];
        return result.outcome === due ? null : `${result.outcome} on a deal that is ${due}`;
      },
      RUNS.forwardedFor,
    );
  });

  it("changed no row and no lasting Redis key, and polluted no prototype", async () => {
    expect(await world.lastingState()).toEqual(stateBefore);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

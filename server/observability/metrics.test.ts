import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deals } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { newId } from "@/lib/ids";
import { captureLog } from "@/testing/capture-log";
import { testCaller } from "@/testing/test-caller";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { handleTrpcRequest } from "../api/http-handler";
import { parseEnv } from "../env";
import { log } from "../log";
import { serveMetrics } from "./metrics-endpoint";
import { serveWithRequestId } from "./request-log";

const METRICS_TOKEN = `metrics-${newId()}-${newId()}`;
let database: TestDatabase;
let testRedis: TestRedis;
let services: Services;

beforeAll(async () => {
  [database, testRedis] = [await createTestDatabase(), createTestRedis()];
  services = await createServices(
    parseEnv({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: testRedis.prefix,
      DEMO_SEED: "on",
      METRICS_TOKEN,
    }),
  );
});
afterAll(async () => {
  await services?.stop();
  await testRedis?.cleanUp();
  await database?.drop();
});

async function call(
  path: string,
  input: unknown,
  options: { cookie?: string; query?: boolean; requestId?: string } = {},
) {
  const payload = JSON.stringify({ json: input });
  const headers = new Headers({ "content-type": "application/json" });
  if (options.cookie) headers.set("cookie", options.cookie);
  if (options.requestId !== undefined) headers.set("x-request-id", options.requestId);
  const url = `http://127.0.0.1/api/trpc/${path}`;
  const response = await handleTrpcRequest(
    services,
    options.query
      ? new Request(`${url}?input=${encodeURIComponent(payload)}`, { headers })
      : new Request(url, { method: "POST", headers, body: payload }),
    testCaller(),
  );
  const body = (await response.json()) as { result?: { data: { json: unknown } } };
  return { response, data: body.result?.data.json as Record<string, unknown> | undefined };
}

async function signIn(email: string, password = DEMO_ACCOUNTS.password) {
  const { response } = await call("auth.signIn", { email, password });
  return response.headers.get("set-cookie")?.split(";")[0] ?? "";
}

async function dealIdTitled(title: string) {
  const [deal] = await database.db.select().from(deals).where(eq(deals.title, title));
  return deal?.id ?? "";
}

/** Samples of a Prometheus text exposition, keyed `name{a="1",b="2"}` with labels sorted. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = line.match(/^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/);
    if (!match?.[1] || !match[3]) throw new Error(`not a Prometheus sample: ${line}`);
    const labels = [...(match[2] ?? "").matchAll(/([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map(
      ([, name, value]) => `${name}="${value}"`,
    );
    samples.set(sampleKey(match[1], labels), Number(match[3]));
  }
  return samples;
}

function sampleKey(name: string, labels: string[]) {
  return labels.length > 0 ? `${name}{${labels.sort().join(",")}}` : name;
}

function key(name: string, labels: Record<string, string> = {}) {
  return sampleKey(
    name,
    Object.entries(labels).map(([label, value]) => `${label}="${value}"`),
  );
}

async function scrape(target: Services = services, authorization = `Bearer ${METRICS_TOKEN}`) {
  const headers = authorization ? { authorization } : undefined;
  const response = await serveMetrics(
    target,
    new Request("http://127.0.0.1/api/metrics", { headers }),
  );
  const body = await response.text();
  return { response, body, samples: response.ok ? parsePrometheus(body) : new Map() };
}

describe("/api/metrics", () => {
  it("counts claim outcomes, gate and claim latency, cache lookups and redemptions", async () => {
    const croissant = await dealIdTitled("Free croissant, fresh from the oven");
    const soldOut = await dealIdTitled("Latte art masterclass seat");
    const winner = await signIn(DEMO_ACCOUNTS.shoppers[1] ?? "");
    const strangerEmail = `m-${newId().toLowerCase()}@example.test`;
    await call("auth.signUp", {
      email: strangerEmail,
      password: "long enough pw",
      displayName: "M",
    });
    const stranger = await signIn(strangerEmail, "long enough pw");
    const staff = await signIn(DEMO_ACCOUNTS.merchantStaff[1] ?? "");

    const before = (await scrape()).samples;
    const claim = async (cookie: string, dealId: string) =>
      (await call("claims.claim", { dealId, idempotencyKey: `m-${newId()}` }, { cookie })).data;
    expect(await claim(winner, croissant)).toMatchObject({ outcome: "WON" });
    expect(await claim(winner, croissant)).toMatchObject({ outcome: "ALREADY_CLAIMED" });
    expect(await claim(stranger, soldOut)).toEqual({ outcome: "SOLD_OUT" });
    expect(await claim(stranger, newId())).toBeUndefined();
    await call("deals.byId", { dealId: croissant }, { query: true });
    await call("deals.byId", { dealId: croissant }, { query: true });
    await call("merchant.redeem", { token: "not-a-voucher" }, { cookie: staff });
    const device = { deviceId: newId(), deviceName: "Till", merchantId: newId(), merchantName: "" };
    await services.redemptionSync.sync(device, {
      redemptions: [{ localId: "1", token: "not-a-voucher", redeemedAt: new Date() }],
    });
    const after = (await scrape()).samples;

    // A cache's series start at its first lookup, which may come after the first scrape.
    const moved = (name: string, labels?: Record<string, string>) =>
      (after.get(key(name, labels)) ?? Number.NaN) - (before.get(key(name, labels)) ?? 0);
    const attempts = "dealdrop_claim_attempts_total";
    expect({
      won: moved(attempts, { outcome: "WON" }),
      alreadyClaimed: moved(attempts, { outcome: "ALREADY_CLAIMED" }),
      soldOut: moved(attempts, { outcome: "SOLD_OUT" }),
      notFound: moved(attempts, { outcome: "NOT_FOUND" }),
      rateLimited: moved(attempts, { outcome: "RATE_LIMITED" }),
      gate: moved("dealdrop_claim_gate_seconds_count", { engine: "redis" }),
      claims: moved("dealdrop_claim_duration_seconds_count"),
      cacheMiss: moved("dealdrop_cache_requests_total", { cache: "deals", result: "miss" }),
      cacheLocalHit: moved("dealdrop_cache_requests_total", {
        cache: "deals",
        result: "local_hit",
      }),
      cacheSharedHit: moved("dealdrop_cache_requests_total", {
        cache: "deals",
        result: "shared_hit",
      }),
      redeemedOnline: moved("dealdrop_online_redemptions_total", { result: "rejected" }),
      syncRejected: moved("dealdrop_redemption_sync_total", { result: "rejected" }),
      syncRecorded: moved("dealdrop_redemption_sync_total", { result: "recorded" }),
    }).toEqual({
      won: 1,
      alreadyClaimed: 1,
      soldOut: 1,
      notFound: 1,
      rateLimited: 0,
      gate: 4,
      claims: 4,
      cacheMiss: 1,
      cacheLocalHit: 1,
      cacheSharedHit: 0,
      redeemedOnline: 1,
      syncRejected: 1,
      syncRecorded: 0,
    });
    expect(
      after.get(key("dealdrop_claim_gate_seconds_bucket", { engine: "redis", le: "+Inf" })),
    ).toBe(after.get(key("dealdrop_claim_gate_seconds_count", { engine: "redis" })));
    expect(after.get(key("dealdrop_process_cpu_seconds_total"))).toBeGreaterThan(0);
  });

  it("shows every claim outcome from the first scrape, at zero", async () => {
    const fresh = await createServices(services.env);
    try {
      const { samples } = await scrape(fresh);
      for (const outcome of ["WON", "SOLD_OUT", "RATE_LIMITED", "UNAVAILABLE", "ERROR"]) {
        expect(samples.get(key("dealdrop_claim_attempts_total", { outcome }))).toBe(0);
      }
      for (const result of ["recorded", "conflict", "rejected"]) {
        expect(samples.get(key("dealdrop_redemption_sync_total", { result }))).toBe(0);
      }
      expect(samples.get(key("dealdrop_claim_gate_seconds_count", { engine: "redis" }))).toBe(0);
    } finally {
      await fresh.stop();
    }
  });

  it("answers only the right bearer token when METRICS_TOKEN is set", async () => {
    const guarded = services;
    for (const authorization of [
      "",
      "Bearer wrong-token-of-some-length",
      `Bearer ${METRICS_TOKEN}x`,
      `Basic ${METRICS_TOKEN}`,
    ]) {
      const { response, body } = await scrape(guarded, authorization);
      expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 });
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(body).not.toContain("dealdrop_");
    }
    const { response, body, samples } = await scrape(guarded, `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(samples.size).toBeGreaterThan(20);
    expect(body).not.toContain(METRICS_TOKEN);
    expect(body).not.toContain(DEMO_ACCOUNTS.password);
    expect(body).not.toContain(database.url);
    // Label values are names and numbers only: nothing shaped like a key, token or address.
    const labelValues = [...body.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map(([, value]) => value);
    expect(labelValues.filter((value) => !/^[A-Za-z0-9_.+-]{1,32}$/.test(value ?? ""))).toEqual([]);
  });
});

describe("request ids", () => {
  it("echoes a sane incoming x-request-id and replaces any other", async () => {
    const sane = await call("deals.list", undefined, { query: true, requestId: "lb-7f3a_09-Z" });
    expect(sane.response.headers.get("x-request-id")).toBe("lb-7f3a_09-Z");
    for (const insane of ["has spaces", "x".repeat(65), "a;b", "ünïcode", ""]) {
      const answer = await call("deals.list", undefined, { query: true, requestId: insane });
      const issued = answer.response.headers.get("x-request-id") ?? "";
      expect(issued).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(issued).not.toBe(insane);
    }
    const scraped = await serveMetrics(
      services,
      new Request("http://127.0.0.1/api/metrics", { headers: { "x-request-id": "scrape-1" } }),
    );
    expect(scraped.headers.get("x-request-id")).toBe("scrape-1");
  });

  it("puts the request id on every line logged while serving the request, and one line after", async () => {
    const lines = await captureLog(async () => {
      log.info("before any request");
      await serveWithRequestId(
        new Request("http://127.0.0.1/api/trpc/x", { headers: { "x-request-id": "req-42" } }),
        () => "x",
        async () => {
          log.info({ step: 1 }, "inside the request");
          await new Promise((resolve) => setTimeout(resolve, 5));
          log.warn("still inside, after an await");
          return new Response("ok");
        },
      );
      await call("deals.list", undefined, { query: true, requestId: "req-43" });
    });
    expect(lines.map((line) => [line.msg, line.reqId])).toEqual([
      ["before any request", undefined],
      ["inside the request", "req-42"],
      ["still inside, after an await", "req-42"],
      ["request", "req-42"],
      ["request", "req-43"],
    ]);
    expect(lines.at(-1)).toMatchObject({
      level: 20,
      method: "GET",
      path: "deals.list",
      status: 200,
      durationMs: expect.any(Number),
    });
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postClaim } from "@/lib/claims/claim-client";
import { liveStockUrl } from "@/lib/deals/live-stock";
import { newId } from "@/lib/ids";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { StreamReader } from "@/testing/stream-reader";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { StockBroadcasts } from "../deals/stock-broadcast";
import { LocalStockTransport, StockFeed } from "../deals/stock-feed";
import { parseEnv } from "../env";
import { log } from "../log";
import { createEdgeServer } from "./http-edge";
import { createNodeStockRoute } from "./stock-route";

/**
 * GET /api/deals/<dealId>/stock on the HTTP edge, as both servers serve it beside the claim
 * route, against real Postgres, with the Redis gate and pub/sub ("redis")
 * and with no Redis at all ("embedded": the Postgres gate, in-process updates).
 */

const SESSION_SECRET = "stock-route test session secret, long enough";
const UNKNOWN_DEAL = "AAAAAAAAAAAA";

interface Mode {
  services: Services;
  baseUrl: string;
  server: Server;
  merchantId: string;
}

let database: TestDatabase;
let modes: Record<"redis" | "embedded", Mode>;
const prefix = `test:${newId()}:`;

/** Serves the routes on the HTTP edge, or one stock route of the test's own on a bare server. */
async function serve(services: Services, stock?: ReturnType<typeof createNodeStockRoute>) {
  const server = stock
    ? createServer((req, res) => void stock(req, res, "192.0.2.1"))
    : createEdgeServer(services, {
        fallback: (_, res) => void res.writeHead(404).end(),
      });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  log.level = "error";
  database = await createTestDatabase();
  const { id: merchantId } = await createMerchant(database.db);
  // Shoppers claim from addresses of their own, through a declared proxy hop.
  const base = {
    DATABASE_URL: database.url,
    SESSION_SECRET,
    DEMO_SEED: "off",
    TRUSTED_PROXIES: "127.0.0.1",
  };
  const open = async (env: Record<string, string>): Promise<Mode> => {
    const services = await createServices(parseEnv(env));
    return { services, merchantId, ...(await serve(services)) };
  };
  modes = {
    redis: await open({ ...base, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix }),
    embedded: await open(base),
  };
});

afterAll(async () => {
  for (const mode of Object.values(modes ?? {})) {
    mode.server.closeAllConnections();
    await new Promise((resolve) => mode.server.close(resolve));
    const keys = await mode.services.redis?.keys(`${prefix}*`);
    if (keys?.length) await mode.services.redis?.del(...keys);
    await mode.services.stop();
  }
  await database?.drop();
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await sleep(10);
  expect(await check()).toBe(true);
}

async function shopperHeaders(services: Services, n: number) {
  const [userId = ""] = await createShoppers(services.database.db, 1);
  const token = await services.sessions.issue({ userId, role: "shopper", displayName: "S" });
  return { cookie: `dd_session=${token}`, "x-forwarded-for": `203.0.113.${n}` };
}

describe.each(["redis", "embedded"] as const)("live stock route, %s", (name) => {
  it("sends the count at once, then the count after a claim on the claim route", async () => {
    const { services, baseUrl, merchantId } = modes[name];
    const deal = await createDeal(services.database.db, merchantId, {
      quantity: 5,
      now: new Date(),
    });
    const reader = new StreamReader(`${baseUrl}${liveStockUrl(deal.id)}`);
    await until(() => reader.counts.length === 1);
    expect(reader.status).toBe(200);
    expect(reader.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(reader.text).toMatch(/^retry: \d+\n\n/);
    expect(reader.frames[0]).toEqual({
      dealId: deal.id,
      remaining: 5,
      quantity: 5,
      at: expect.any(Number),
    });

    const headers = await shopperHeaders(services, 1);
    const result = await postClaim(
      { dealId: deal.id, idempotencyKey: newId() },
      { baseUrl, headers },
    );
    expect(result.outcome).toBe("WON");
    // Coalesced for 250 ms, then fanned out (how fast is the bench's to measure, not a test's).
    await until(() => reader.counts.at(-1) === 4);
    expect(reader.counts).toEqual([5, 4]);
    reader.close();
  });

  it("refuses a malformed id (400), an unknown deal (404) and other methods (405), typed like the claim route", async () => {
    const { baseUrl } = modes[name];
    const answer = async (path: string, init?: RequestInit) => {
      const response = await fetch(`${baseUrl}${path}`, init);
      expect(response.headers.get("content-type")).toBe("application/json");
      return { status: response.status, ...((await response.json()) as object) };
    };
    for (const bad of ["short", "%E0%A4%A", "AAAAAAAAAAA%00", "AAAAAAAAAAAAA", ""]) {
      expect(await answer(`/api/deals/${bad}/stock`)).toEqual({
        status: 400,
        error: {
          code: "BAD_REQUEST",
          message: expect.stringMatching(/^dealId: /),
          fieldErrors: { dealId: [expect.any(String)] },
        },
      });
    }
    expect(await answer(liveStockUrl(UNKNOWN_DEAL))).toEqual({
      status: 404,
      error: { code: "NOT_FOUND", domainCode: "NOT_FOUND", message: "No deal has this id." },
    });
    expect(await answer(liveStockUrl(UNKNOWN_DEAL), { method: "POST" })).toEqual({
      status: 405,
      error: { code: "METHOD_NOT_SUPPORTED", message: "Live stock is read with GET." },
    });
  });

  it("drops the deal's transport listener (and Redis channel) when the last stream closes", async () => {
    const { services, baseUrl, merchantId } = modes[name];
    const deal = await createDeal(services.database.db, merchantId, {
      quantity: 3,
      now: new Date(),
    });
    const broadcasts = services.stockBroadcasts;
    const channelSubscribers = async () => {
      if (!services.redis) return 0;
      const channel = `${prefix}stock:${deal.id}`;
      return ((await services.redis.pubsub("NUMSUB", channel)) as [string, number])[1];
    };
    const readers = Array.from(
      { length: 3 },
      () => new StreamReader(`${baseUrl}${liveStockUrl(deal.id)}`),
    );
    await until(() => readers.every((reader) => reader.counts.length === 1));
    expect(broadcasts.viewers().get(deal.id)).toBe(3);
    if (services.redis) await until(async () => (await channelSubscribers()) === 1);

    for (const reader of readers) reader.close();
    await until(() => !broadcasts.watched(deal.id));
    await until(async () => (await channelSubscribers()) === 0);
  });
});

describe("streams per address and per account", () => {
  const loopback = { address: "127.0.0.1" };

  it("refuses the 21st stream from one address (429, typed, Retry-After); a closed stream frees its place", async () => {
    const { services, baseUrl, merchantId } = modes.redis;
    const deal = await createDeal(services.database.db, merchantId, {
      quantity: 5,
      now: new Date(),
    });
    const url = `${baseUrl}${liveStockUrl(deal.id)}`;
    await until(() => services.streams.held(loopback).address === 0); // earlier tests' streams
    const readers = Array.from({ length: 20 }, () => new StreamReader(url));
    await until(() => readers.every((reader) => reader.counts.length === 1));
    expect(services.streams.held(loopback).address).toBe(20);

    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(await refused.json()).toEqual({
      error: {
        code: "TOO_MANY_REQUESTS",
        domainCode: "RATE_LIMITED",
        message: expect.stringMatching(/^Too many live streams are open for this address/),
        retryAfterMs: 10_000,
      },
    });

    readers[0]?.close();
    await until(() => services.streams.held(loopback).address === 19);
    const again = new StreamReader(url);
    await until(() => again.counts.length === 1);
    expect(again.status).toBe(200);
    for (const reader of [...readers, again]) reader.close();
    await until(() => services.streams.held(loopback).address === 0);
  });

  it("refuses a signed-in account's 6th stream, from any address", async () => {
    const { services, baseUrl, merchantId } = modes.embedded;
    const deal = await createDeal(services.database.db, merchantId, {
      quantity: 5,
      now: new Date(),
    });
    const url = `${baseUrl}${liveStockUrl(deal.id)}`;
    const { cookie } = await shopperHeaders(services, 1);
    const readers = Array.from(
      { length: 5 },
      (_, i) => new StreamReader(url, { cookie, "x-forwarded-for": `198.51.100.${i}` }),
    );
    await until(() => readers.every((reader) => reader.counts.length === 1));
    const refused = await fetch(url, { headers: { cookie, "x-forwarded-for": "198.51.100.9" } });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({
      error: { message: expect.stringMatching(/for this account/) },
    });
    const anonymous = new StreamReader(url);
    await until(() => anonymous.counts.length === 1);
    for (const reader of [...readers, anonymous]) reader.close();
    await until(() => services.streams.held(loopback).address === 0);
  });
});

describe("a reader that stops reading", () => {
  it("is skipped while its socket is full, and then gets only the newest count", async () => {
    const { services, merchantId } = modes.redis;
    const deal = await createDeal(services.database.db, merchantId, {
      quantity: 9,
      now: new Date(),
    });
    // A feed this test publishes to directly: many distinct updates, far faster than claims.
    const transport = new LocalStockTransport();
    const feed = new StockFeed(
      async () => ({ remaining: 1_000_000, quantity: 1_000_000 }),
      transport,
    );
    const broadcasts = new StockBroadcasts(feed);
    const route = createNodeStockRoute({ ...services, stockBroadcasts: broadcasts });
    const { server, baseUrl } = await serve(services, route);
    const { port } = new URL(baseUrl);

    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.write(
      `GET ${liveStockUrl(deal.id)} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`,
    );
    await until(() => received.includes("data: "));
    socket.pause();

    // Published in one burst, without yielding: the response cannot flush meanwhile, so its
    // writes queue and answer false past 16 KB, as they do once a reader's socket is full
    // (a paused reader on loopback only fills the kernel's buffers after megabytes).
    const updates = 40_000;
    let at = Date.now();
    for (let remaining = updates; remaining > 0; remaining--) {
      await transport.publish({ dealId: deal.id, remaining, quantity: 1_000_000, at: ++at });
    }
    socket.resume();
    await until(() => received.includes('"remaining":1,'), 10_000);
    const counts = [...received.matchAll(/"remaining":(\d+),/g)].map((match) => Number(match[1]));
    expect(counts.at(-1)).toBe(1); // sent on 'drain': the newest, though published while behind
    expect(counts.length).toBeLessThan(updates); // it skipped counts while behind...
    for (let i = 1; i < counts.length; i++) {
      expect(counts[i]).toBeLessThan(counts[i - 1] ?? 0); // ...and never got an old one
    }
    socket.destroy();
    await until(() => !broadcasts.watched(deal.id));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    feed.close();
  });
});

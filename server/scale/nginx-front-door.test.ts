import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAIM_ROUTE } from "@/lib/claims/claim-client";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { liveStockUrl } from "@/lib/deals/live-stock";
import { newId } from "@/lib/ids";
import {
  gateAddressCounters,
  LIMITED_ON_THE_ELEVENTH,
  signUpsUntilLimited,
  spoofed,
} from "@/testing/address-limits";
import { type ClaimServerProcess, startClaimServer } from "@/testing/claim-server-process";
import { createServerModeServices, serveEdge } from "@/testing/edge-server";
import { sendFrom } from "@/testing/loopback-client";
import { type RunningNginx, startNginx } from "@/testing/nginx";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { StreamReader } from "@/testing/stream-reader";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import type { Services } from "@/testing/wired-services";
import { gateKeys } from "../claims/gate-keys";
import { log } from "../log";

/**
 * Issue 21, item 1: deploy/nginx.conf as shipped, on loopback, in front of two app servers
 * (the HTTP edge with tRPC, a stand-in for Next behind it) and one claim server process with
 * two workers, all trusting 127.0.0.1 (nginx) as their proxy. A sale goes through it with
 * every invariant checked, each route lands where the configuration says, and a client that
 * writes its own X-Forwarded-For stays inside its address's limits.
 */
const SECRET = "front-door session secret, long enough to be accepted";
const METRICS_TOKEN = "front-door-metrics-token-0123";
const STREAMS_PER_ADDRESS = 2;
const QUANTITY = 60;
const SHOPPERS = 240;
/** The crowd's own addresses (nginx sees them as peers), 12 shoppers each. */
const CROWD = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 2}`);

let database: TestDatabase;
const prefix = `test:${newId()}:`;
const apps: { services: Services; hostPort: string; pages: string[]; close(): Promise<void> }[] =
  [];
let claimServer: ClaimServerProcess;
let nginx: RunningNginx;
let merchantId: string;

beforeAll(async () => {
  log.level = "error";
  database = await createTestDatabase();
  merchantId = (await createMerchant(database.db)).id;
  const env = { SESSION_SECRET: SECRET, DEMO_SEED: "off", TRUSTED_PROXIES: "127.0.0.1" };
  for (let i = 0; i < 2; i++) {
    const services = await createServerModeServices(database, prefix, env);
    const pages: string[] = [];
    const edge = await serveEdge(services, "127.0.0.1", (req, res) => {
      pages.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "text/html" }).end(`<p>app server ${i}</p>`);
    });
    apps.push({ services, pages, hostPort: new URL(edge.baseUrl).host, close: edge.close });
  }
  claimServer = await startClaimServer({
    database,
    redisPrefix: prefix,
    sessionSecret: SECRET,
    env: {
      CLAIM_WORKERS: "2",
      METRICS_TOKEN,
      STREAMS_PER_ADDRESS: String(STREAMS_PER_ADDRESS),
    },
  });
  nginx = await startNginx({
    app: apps.map((app) => app.hostPort),
    claims: [claimServer.hostPort],
  });
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  await claimServer?.running.stop();
  const redis = apps[0]?.services.redis;
  const keys = await redis?.keys(`${prefix}*`);
  if (keys?.length) await redis?.del(...keys);
  for (const app of apps) {
    await app.close();
    await app.services.stop();
  }
  await database?.drop();
});

async function shopperCookies(howMany: number): Promise<string[]> {
  const ids = await createShoppers(database.db, howMany);
  const sessions = apps[0]?.services.sessions;
  if (!sessions) throw new Error("no app server");
  return Promise.all(
    ids.map(
      async (userId) =>
        `dd_session=${await sessions.issue({ userId, role: "shopper", displayName: "Crowd" })}`,
    ),
  );
}

type Answer = { status: number; result?: ClaimResult; error?: { code: string } };

async function claimThroughNginx(
  from: string,
  cookie: string,
  body: { dealId: string; idempotencyKey: string },
  headers: Record<string, string> = {},
): Promise<Answer> {
  const answer = await sendFrom(from, `${nginx.baseUrl}${CLAIM_ROUTE}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, ...headers },
    body: JSON.stringify(body),
  });
  return { status: answer.status, ...(JSON.parse(answer.text) as Omit<Answer, "status">) };
}

const redis = () => apps[0]?.services.redis as Redis;

async function claimAttemptsCounted(): Promise<number> {
  const response = await fetch(`${claimServer.baseUrl}/api/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  let total = 0;
  for (const line of (await response.text()).split("\n")) {
    const match = /^dealdrop_claim_attempts_total\{outcome="\w+"\} (\d+)/.exec(line);
    if (match?.[1]) total += Number(match[1]);
  }
  return total;
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("nginx in front of two app servers and a claim server with two workers", () => {
  it("runs a sale: exactly the quantity won, one per shopper, a retry answered the same, nothing oversold", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: QUANTITY, now: new Date() });
    const cookies = await shopperCookies(SHOPPERS);
    const viewer = new StreamReader(`${nginx.baseUrl}${liveStockUrl(deal.id)}`, {}, "127.0.0.40");
    await until("the stream's first count", () => viewer.counts.length > 0);
    const attemptsBefore = await claimAttemptsCounted();

    // Every shopper claims once from the crowd's addresses, each writing a made-up
    // X-Forwarded-For; every fourth sends its key again, as a retry after a lost answer.
    const answers: { shopper: number; key: string; answer: Answer }[] = [];
    let next = 0;
    let sent = 0;
    const sender = async () => {
      while (next < SHOPPERS) {
        const shopper = next++;
        const key = newId();
        const from = CROWD[shopper % CROWD.length] as string;
        const send = () => {
          sent++;
          return claimThroughNginx(
            from,
            cookies[shopper] as string,
            { dealId: deal.id, idempotencyKey: key },
            spoofed(shopper),
          );
        };
        answers.push({ shopper, key, answer: await send() });
        if (shopper % 4 === 0) answers.push({ shopper, key, answer: await send() });
      }
    };
    const counters = gateAddressCounters(redis(), prefix, deal.id);
    await counters.expectCountedUnder(CROWD, async () => {
      await Promise.all(Array.from({ length: 24 }, sender));
    });

    for (const { answer } of answers) expect(answer.status, JSON.stringify(answer)).toBe(200);
    const firsts = new Map<number, ClaimResult>();
    for (const { shopper, answer } of answers) {
      const result = answer.result as ClaimResult;
      const first = firsts.get(shopper);
      if (!first) firsts.set(shopper, result);
      else if (first.outcome === "WON") {
        expect(result).toMatchObject({ outcome: "WON", claimId: first.claimId, replayed: true });
      } else expect(result.outcome).toBe(first.outcome);
    }
    const winners = [...firsts.values()].filter((result) => result.outcome === "WON");
    expect(winners).toHaveLength(QUANTITY);
    expect([...firsts.values()].filter((r) => r.outcome === "SOLD_OUT")).toHaveLength(
      SHOPPERS - QUANTITY,
    );
    expect(await claimTruth(database.db, deal.id)).toEqual({
      activeClaims: QUANTITY,
      soldCounter: QUANTITY,
      quantity: QUANTITY,
      usersWithTwoClaims: 0,
    });
    const gate = gateKeys(prefix, deal.id);
    expect(await redis().hget(gate.meta, "remaining")).toBe("0");
    expect(await redis().zcard(gate.pending)).toBe(0);

    // Every attempt reached the claim server (its workers' summed metrics), none an app server;
    // the stream, through nginx unbuffered, saw the sale end.
    expect((await claimAttemptsCounted()) - attemptsBefore).toBe(sent);
    for (const app of apps) {
      expect((await app.services.metrics.render()).body).not.toMatch(
        /^dealdrop_claim_attempts_total\{[^}]*\} [1-9]/m,
      );
    }
    await until("the stream's sold-out count", () => viewer.counts.at(-1) === 0);
    viewer.close();
  }, 120_000);

  it("sends pages to both app servers, and keeps metrics and oversized bodies out, in typed JSON", async () => {
    const before = apps.map((app) => app.pages.length);
    for (let i = 0; i < 10; i++) {
      const page = await fetch(`${nginx.baseUrl}/deals/nearby?n=${i}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/app server [01]/);
    }
    apps.forEach((app, i) => {
      expect(app.pages.length - (before[i] ?? 0)).toBeGreaterThan(0);
    });
    expect(apps.flatMap((app) => app.pages)).toContain("GET /deals/nearby?n=0");

    const metrics = await fetch(`${nginx.baseUrl}/api/metrics`);
    expect(metrics.status).toBe(404);
    expect(await metrics.json()).toMatchObject({ error: { code: "NOT_FOUND" } });

    const tooLargeClaim = await fetch(`${nginx.baseUrl}${CLAIM_ROUTE}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ dealId: "x".repeat(5_000), idempotencyKey: "k" }),
    });
    expect(tooLargeClaim.status).toBe(413);
    expect(await tooLargeClaim.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    const tooLargePost = await fetch(`${nginx.baseUrl}/api/trpc/auth.signUp`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(300 * 1_024),
    });
    expect(tooLargePost.status).toBe(413);
    expect(tooLargePost.headers.get("content-type")).toBe("application/json");
    expect(await tooLargePost.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
  });
});

/**
 * A client on 127.0.0.1, the address the servers trust as their proxy: the case where an
 * appended header (what the client wrote, then its address) would be believed hop by hop.
 * nginx overwrites the header, so every spoofed address stops at nginx.
 */
describe("a client that writes its own X-Forwarded-For through nginx", () => {
  const client = "127.0.0.1";

  it("is limited on its eleventh sign-up, whichever app server answers", async () => {
    expect(await signUpsUntilLimited(nginx.baseUrl, client, spoofed)).toEqual(
      LIMITED_ON_THE_ELEVENTH,
    );
  });

  it("has every claim attempt counted under its own address at the gate", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 100, now: new Date() });
    const cookies = await shopperCookies(30);
    const counters = gateAddressCounters(redis(), prefix, deal.id);
    await counters.expectCountedUnder([client], async () => {
      for (const [i, cookie] of cookies.entries()) {
        const answer = await claimThroughNginx(
          client,
          cookie,
          { dealId: deal.id, idempotencyKey: newId() },
          spoofed(2_000 + i),
        );
        expect(answer.status).toBe(200);
      }
    });
  });

  it("holds no more live-stock streams than its address may", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 5, now: new Date() });
    // Two workers with STREAMS_PER_ADDRESS each: one more than both hold must be refused.
    const readers = Array.from(
      { length: 2 * STREAMS_PER_ADDRESS + 1 },
      (_, i) => new StreamReader(`${nginx.baseUrl}${liveStockUrl(deal.id)}`, spoofed(3_000 + i)),
    );
    try {
      await until("every stream answered", () => readers.every((reader) => reader.status !== 0));
      const refused = readers.filter((reader) => reader.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(readers.filter((reader) => reader.status === 200).length).toBeLessThanOrEqual(
        2 * STREAMS_PER_ADDRESS,
      );
    } finally {
      for (const reader of readers) reader.close();
    }
  });
});

import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postClaim } from "@/lib/claims/claim-client";
import { newId } from "@/lib/ids";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { startClaimServer } from "@/testing/claim-server-process";
import { cpuSeconds, freePort, type Running, startProcess } from "@/testing/processes";
import { UNUSED_STRIPE_ENV } from "@/testing/production-payments";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, TEST_REDIS_URL } from "@/testing/test-redis";
import { SessionCodec } from "../auth/session";
import { parseEnv } from "../env";

/**
 * The claim server with CLAIM_WORKERS=2: a primary and two worker processes on one port.
 * The crowd's connections are shared between the workers, one scrape counts every worker's
 * claims, a crashed worker is replaced, and SIGTERM stops them all.
 */
const SECRET = "claim-workers-session-secret-long-enough-0123456789";
const METRICS_TOKEN = "claim-workers-metrics-token-0123";
const testRedis = createTestRedis();

let database: TestDatabase;
let server: Running;
let baseUrl: string;
let cookies: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  // The crowd's addresses arrive in X-Forwarded-For, through the declared proxy hop 127.0.0.1.
  const started = await startClaimServer({
    database,
    redisPrefix: testRedis.prefix,
    sessionSecret: SECRET,
    env: { CLAIM_WORKERS: "2", METRICS_TOKEN },
  });
  server = started.running;
  baseUrl = started.baseUrl;
  const codec = new SessionCodec(SECRET);
  const shoppers = await createShoppers(database.db, 300);
  cookies = await Promise.all(
    shoppers.map(
      async (userId) =>
        `dd_session=${await codec.issue({ userId, role: "shopper", displayName: "Crowd" })}`,
    ),
  );
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await testRedis.cleanUp();
  await database?.drop();
});

/** The worker processes under the primary (tsx's esbuild service is a child too). */
function workerPids(): number[] {
  let children = "";
  try {
    children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(server.child.pid)], {
      encoding: "utf8",
    });
  } catch {
    // ps exits 1 when the primary has no children left.
  }
  return children
    .split("\n")
    .filter((line) => line.includes("claim-server"))
    .map((line) => Number.parseInt(line, 10));
}

async function claimAsEveryone(dealId: string, shoppers: string[]) {
  const outcomes: string[] = [];
  let next = 0;
  const sender = async () => {
    while (next < shoppers.length) {
      const cookie = shoppers[next++] ?? "";
      const send = () =>
        postClaim(
          { dealId, idempotencyKey },
          { baseUrl, headers: { cookie, "x-forwarded-for": `198.51.100.${next % 250}` } },
        );
      const idempotencyKey = newId();
      // A connection a killed worker held breaks, and a cold worker on a busy machine may shed
      // its first attempts (503): the shopper's app sends the same key again, for up to 10 s.
      const giveUpAt = Date.now() + 10_000;
      for (;;) {
        try {
          outcomes.push((await send()).outcome);
          break;
        } catch (error) {
          const retry = error instanceof ApiRequestError && [0, 503].includes(error.status);
          if (!retry || Date.now() >= giveUpAt) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 24 }, sender));
  return outcomes;
}

async function attemptsCounted(): Promise<number> {
  const response = await fetch(`${baseUrl}/api/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  let total = 0;
  for (const line of (await response.text()).split("\n")) {
    const match = /^dealdrop_claim_attempts_total\{outcome="\w+"\} (\d+)/.exec(line);
    if (match?.[1]) total += Number(match[1]);
  }
  return total;
}

describe("the claim server on two workers", () => {
  it("shares the crowd between its workers and counts every claim in one scrape", async () => {
    const workers = workerPids();
    expect(workers).toHaveLength(2);
    const cpuBefore = workers.map((pid) => cpuSeconds(pid));
    const deal = await createDeal(database.db, (await createMerchant(database.db)).id, {
      quantity: 50,
      now: new Date(),
    });

    const outcomes = await claimAsEveryone(deal.id, cookies);

    expect(outcomes.filter((outcome) => outcome === "WON")).toHaveLength(50);
    expect(outcomes.filter((outcome) => outcome === "SOLD_OUT")).toHaveLength(250);
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 50,
      soldCounter: 50,
      usersWithTwoClaims: 0,
    });
    // Both workers did the work (a worker idles at well under 0.05 s of CPU)...
    workers.forEach((pid, i) => {
      expect(cpuSeconds(pid) - (cpuBefore[i] ?? 0)).toBeGreaterThan(0.05);
    });
    // ...and one scrape, answered by either worker, counts all of it.
    expect(await attemptsCounted()).toBe(300);
    expect(await attemptsCounted()).toBe(300);
  });

  it("replaces a worker that dies and keeps answering meanwhile", async () => {
    const [victim, survivor] = workerPids();
    process.kill(victim as number, "SIGKILL");
    const deal = await createDeal(database.db, (await createMerchant(database.db)).id, {
      quantity: 10,
      now: new Date(),
    });
    const outcomes = await claimAsEveryone(deal.id, cookies.slice(0, 40));
    expect(outcomes.filter((outcome) => outcome === "WON")).toHaveLength(10);

    const deadline = Date.now() + 30_000;
    while (workerPids().length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const workers = workerPids();
    expect(workers).toHaveLength(2);
    expect(workers).toContain(survivor);
    expect(workers).not.toContain(victim);
  }, 60_000);

  it("stops every worker on SIGTERM", async () => {
    const workers = workerPids();
    await server.stop();
    expect(server.child.exitCode).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 20_000);
});

describe("CLAIM_WORKERS", () => {
  it("stops the whole server when a worker cannot start, instead of restarting it forever", async () => {
    const port = await freePort();
    const failing = startProcess(
      "node",
      ["--import", "tsx", "--conditions=react-server", "server/http/claim-server.ts"],
      {
        NODE_ENV: "production",
        PORT: String(port),
        CLAIM_WORKERS: "2",
        DATABASE_URL: "postgres://127.0.0.1:1/nowhere",
        REDIS_URL: TEST_REDIS_URL,
        SESSION_SECRET: SECRET,
        VOUCHER_KEY_SECRET: SECRET,
        DEMO_SEED: "off",
        ...UNUSED_STRIPE_ENV,
      },
    );
    try {
      const exitCode = await new Promise((resolve) => failing.child.once("exit", resolve));
      expect(exitCode).toBe(1);
      expect(failing.output()).toContain("a claim worker stopped before it listened");
    } finally {
      await failing.stop();
    }
    // Three processes compile and start under tsx: slow on a busy machine, and not the point.
  }, 120_000);

  it("refuses more than one worker in embedded mode, and nonsense, by name", () => {
    expect(() => parseEnv({ CLAIM_WORKERS: "2" })).toThrow(/CLAIM_WORKERS: above 1 needs/);
    expect(() => parseEnv({ CLAIM_WORKERS: "2", DATABASE_URL: "postgres://127.0.0.1/x" })).toThrow(
      /CLAIM_WORKERS: above 1 needs/,
    );
    expect(() => parseEnv({ CLAIM_WORKERS: "0" })).toThrow(/CLAIM_WORKERS: must be at least 1/);
    expect(() => parseEnv({ CLAIM_WORKERS: "two" })).toThrow(/CLAIM_WORKERS: must be a number/);
    expect(
      parseEnv({
        CLAIM_WORKERS: "2",
        DATABASE_URL: "postgres://127.0.0.1/x",
        REDIS_URL: "redis://127.0.0.1:6379",
      }).CLAIM_WORKERS,
    ).toBe(2);
  });
});

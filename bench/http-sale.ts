/**
 * `npm run bench`: flash sales through HTTP against the production server, measured with
 * wrk at 1,000 connections, next to the ceiling (bare node:http + the same Lua script)
 * measured by the same tool in the same run. Afterwards Postgres is asked what was sold.
 *
 * Everything runs on loopback with a Redis and a Postgres database of the bench's own, and
 * every step is bounded. Knobs (env): BENCH_SKIP_BUILD=1, BENCH_USERS, BENCH_SECONDS,
 * BENCH_CONNECTIONS, BENCH_ADMIN_DATABASE_URL.
 */
import { writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createScratchDatabase, type ScratchDatabase } from "@/db/scratch-database";
import { SessionCodec } from "@/server/auth/session";
import { RedisGateLoader } from "@/server/claims/redis-gate-loader";
import { createRedis } from "@/server/redis/client";
import { startPrivateRedis } from "@/server/testing/private-redis";
import { freePort, startProcess, waitForHttp } from "@/server/testing/processes";
import { createDeal, createMerchant, createShoppers } from "@/server/testing/sale-fixtures";
import { cpuSeconds, runToEnd } from "./processes";
import { positiveInt, writeResults } from "./report";
import { auditSale } from "./sale-fixture";
import { runWrk, type WrkResult } from "./wrk";

const SESSION_SECRET = "bench-session-secret-that-is-long-enough-0123456789";
const METRICS_TOKEN = "bench-metrics-token-0123456789";

const readParams = () => ({
  users: positiveInt("BENCH_USERS", 200_000),
  seconds: positiveInt("BENCH_SECONDS", 10),
  connections: positiveInt("BENCH_CONNECTIONS", 1_000),
  threads: 2,
  skipBuild: process.env.BENCH_SKIP_BUILD === "1",
  adminDatabaseUrl:
    process.env.BENCH_ADMIN_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
});

const step = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export interface HttpScenario {
  scenario: string;
  units: number;
  connections: number;
  attempts: number;
  attemptsPerSec: number;
  ceilingPerSec: number;
  ratioToCeiling: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  ceilingP50Ms: number;
  ceilingP99Ms: number;
  /** CPU the server process used per attempt (user + system), and the ceiling's. */
  serverCpuUsPerAttempt: number;
  ceilingCpuUsPerAttempt: number;
  outcomes: Record<string, number>;
  non2xx: number;
  socketErrors: number;
  sold: number;
  oversold: number;
  duplicateClaims: number;
  soldCounter: number;
  problems: string[];
}

/** Claim outcomes counted by the server, read from its Prometheus text. */
async function attemptCounts(baseUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${baseUrl}/api/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const counts = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    const match = /^dealdrop_claim_attempts_total\{outcome="(\w+)"\} (\d+)/.exec(line);
    if (match?.[1] && match[2]) counts.set(match[1], Number(match[2]));
  }
  return counts;
}

const perSec = (result: WrkResult) => result.requests / (result.durationUs / 1e6);

async function main(): Promise<number> {
  const params = readParams();
  const stamp = Date.now();
  const workDir = path.join(os.tmpdir(), `dealdrop-bench-${stamp}`);
  const stops: (() => Promise<void>)[] = [];
  let database: ScratchDatabase | undefined;
  try {
    if (!params.skipBuild) {
      step("building the production server (npm run build)");
      await runToEnd("npm", ["run", "build"]);
    }
    step("starting a private Redis and a scratch Postgres database");
    const redisServer = await startPrivateRedis();
    stops.push(() => redisServer.stop());
    database = await createScratchDatabase({
      adminUrl: params.adminDatabaseUrl,
      name: `dealdrop_bench_http_${stamp}`,
      poolSize: 10,
    });
    const { db } = database;

    step(`seeding ${params.users.toLocaleString()} shoppers and their session tokens`);
    const merchant = await createMerchant(db);
    const now = new Date();
    const deal = async (quantity: number) =>
      (await createDeal(db, merchant.id, { quantity, now })).id;
    const deals = {
      warmup: await deal(1_000_000),
      small: await deal(1_000),
      large: await deal(100_000),
      ceilingWarmup: await deal(1_000_000),
      ceilingSmall: await deal(1_000),
      ceilingLarge: await deal(100_000),
    };
    const userIds = await createShoppers(db, params.users);
    const codec = new SessionCodec(SESSION_SECRET);
    const tokens: string[] = [];
    for (const [i, userId] of userIds.entries()) {
      tokens.push(await codec.issue({ userId, role: "shopper", displayName: `Shopper ${i}` }));
    }
    await rm(workDir, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(workDir, { recursive: true }));
    const tokensFile = path.join(workDir, "tokens.txt");
    writeFileSync(tokensFile, `${tokens.join("\n")}\n`);

    const prefix = `bench:${stamp}:`;
    step("loading the ceiling's gates");
    const redis = createRedis(redisServer.url);
    stops.push(async () => redis.disconnect());
    const loader = new RedisGateLoader(redis, db, prefix);
    for (const id of [deals.ceilingWarmup, deals.ceilingSmall, deals.ceilingLarge]) {
      await loader.ensureLoaded(id);
    }

    const appPort = await freePort();
    const ceilingPort = await freePort();
    const appUrl = `http://127.0.0.1:${appPort}`;
    const ceilingUrl = `http://127.0.0.1:${ceilingPort}`;
    step(`starting the production server on ${appUrl} and the ceiling on ${ceilingUrl}`);
    const nodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const entry = process.env.BENCH_ENTRY ?? "dist/server.mjs";
    const app = startProcess("node", [...nodeArgs, entry], {
      NODE_ENV: "production",
      PORT: String(appPort),
      HOSTNAME: "127.0.0.1",
      DATABASE_URL: database.url,
      REDIS_URL: redisServer.url,
      REDIS_KEY_PREFIX: prefix,
      SESSION_SECRET,
      VOUCHER_KEY_SECRET: SESSION_SECRET,
      METRICS_TOKEN,
      DEMO_SEED: "off",
      LOG_LEVEL: "warn",
    });
    stops.push(() => app.stop());
    const ceiling = startProcess(
      "node",
      ["--import", "tsx", "--conditions=react-server", "bench/ceiling-server.ts"],
      {
        BENCH_CEILING_PORT: String(ceilingPort),
        BENCH_REDIS_URL: redisServer.url,
        BENCH_PREFIX: prefix,
      },
    );
    stops.push(() => ceiling.stop());
    await waitForHttp(`${appUrl}/api/claim`, app);
    await waitForHttp(ceilingUrl, ceiling);

    const wrk = (baseUrl: string, dealId: string, seconds = params.seconds) =>
      runWrk({
        baseUrl,
        dealId,
        tokensFile,
        connections: params.connections,
        threads: params.threads,
        seconds,
      });
    step("warming both servers up (3 s each)");
    await wrk(appUrl, deals.warmup, 3);
    await wrk(ceilingUrl, deals.ceilingWarmup, 3);

    const scenarios: HttpScenario[] = [];
    const sale = async (name: string, units: number, dealId: string, ceilingDealId: string) => {
      step(`${name}: the ceiling, ${params.seconds} s at ${params.connections} connections`);
      const ceilingCpu = cpuSeconds(ceiling.child.pid);
      const top = await wrk(ceilingUrl, ceilingDealId);
      const ceilingCpuUs = ((cpuSeconds(ceiling.child.pid) - ceilingCpu) * 1e6) / top.requests;
      step(`${name}: the app, ${params.seconds} s at ${params.connections} connections`);
      const before = await attemptCounts(appUrl);
      const appCpu = cpuSeconds(app.child.pid);
      const run = await wrk(appUrl, dealId);
      const appCpuUs = ((cpuSeconds(app.child.pid) - appCpu) * 1e6) / run.requests;
      const after = await attemptCounts(appUrl);
      const outcomes: Record<string, number> = {};
      for (const [outcome, count] of after) {
        const moved = count - (before.get(outcome) ?? 0);
        if (moved > 0) outcomes[outcome] = moved;
      }
      const audit = await auditSale(db, dealId, units);
      const problems = [
        ...(audit.oversold > 0 ? [`oversold by ${audit.oversold}`] : []),
        ...(audit.duplicateClaims > 0 ? [`${audit.duplicateClaims} users hold two claims`] : []),
        ...(audit.counter !== audit.sold
          ? [`deals.sold ${audit.counter} ≠ claims ${audit.sold}`]
          : []),
        ...((outcomes.WON ?? 0) > audit.sold
          ? [`${outcomes.WON} told WON, ${audit.sold} claims recorded`]
          : []),
      ];
      const attemptsPerSec = perSec(run);
      const ceilingPerSec = perSec(top);
      scenarios.push({
        scenario: name,
        units,
        connections: params.connections,
        attempts: run.requests,
        attemptsPerSec,
        ceilingPerSec,
        ratioToCeiling: attemptsPerSec / ceilingPerSec,
        p50Ms: run.p50Us / 1_000,
        p99Ms: run.p99Us / 1_000,
        p999Ms: run.p999Us / 1_000,
        ceilingP50Ms: top.p50Us / 1_000,
        ceilingP99Ms: top.p99Us / 1_000,
        serverCpuUsPerAttempt: appCpuUs,
        ceilingCpuUsPerAttempt: ceilingCpuUs,
        outcomes,
        non2xx: run.non2xx,
        socketErrors: run.connectErrors + run.readErrors + run.writeErrors + run.timeouts,
        sold: audit.sold,
        oversold: audit.oversold,
        duplicateClaims: audit.duplicateClaims,
        soldCounter: audit.counter,
        problems,
      });
    };
    const only = process.env.BENCH_ONLY;
    if (only !== "large") await sale("1,000 units", 1_000, deals.small, deals.ceilingSmall);
    if (only !== "small") await sale("100,000 units", 100_000, deals.large, deals.ceilingLarge);

    if (process.env.BENCH_REDIS_STATS === "1") console.log(await redis.info("commandstats"));
    printTable(scenarios);
    const file = writeResults(
      { startedAt: new Date(stamp).toISOString(), machine: machine(), params, scenarios },
      "http-sale",
    );
    step(`results: ${file}`);
    return scenarios.some((s) => s.problems.length > 0) ? 1 : 0;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await database?.drop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version };
}

function printTable(scenarios: HttpScenario[]) {
  const rows = [
    [
      "scenario",
      "attempts/s",
      "ceiling/s",
      "ratio",
      "p50 ms",
      "p99 ms",
      "p99.9 ms",
      "cpu µs",
      "ceiling µs",
      "sold",
      "oversold",
      "dup",
      "outcomes",
    ],
    ...scenarios.map((s) => [
      s.scenario,
      s.attemptsPerSec.toFixed(0),
      s.ceilingPerSec.toFixed(0),
      s.ratioToCeiling.toFixed(2),
      s.p50Ms.toFixed(1),
      s.p99Ms.toFixed(1),
      s.p999Ms.toFixed(1),
      s.serverCpuUsPerAttempt.toFixed(0),
      s.ceilingCpuUsPerAttempt.toFixed(0),
      `${s.sold}/${s.units}`,
      String(s.oversold),
      String(s.duplicateClaims),
      Object.entries(s.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  for (const row of rows) {
    console.log(
      row
        .map((cell, c) =>
          c === 0 || c === 12 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0),
        )
        .join("  "),
    );
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

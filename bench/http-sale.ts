import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createScratchDatabase, type ScratchDatabase } from "@/db/scratch-database";
import { newId } from "@/lib/ids";
import { RedisGateLoader } from "@/server/claims/redis-gate-loader";
import { createRedis } from "@/server/redis/client";
import { startPrivateRedis } from "@/testing/private-redis";
import { freePort, processTreeCpuSeconds, startProcess, waitForHttp } from "@/testing/processes";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { type PhaseSummary, sendArrivals, summarise } from "./arrivals";
import { minimalStockKey } from "./minimal-gate";
import { runOpenLoop } from "./open-loop";
import {
  attemptCounts,
  BENCH_SESSION_SECRET,
  benchServerEnv,
  runToEnd,
  SERVER_NODE_FLAGS,
  writeShopperTokens,
} from "./processes";
import { positiveInt, writeResults } from "./report";
import { auditSale } from "./sale-fixture";
import { measureStockFanout, type StockFanoutResult } from "./stock-fanout";
import { runWrk, type WrkResult } from "./wrk";

const readParams = () => ({
  users: positiveInt("BENCH_USERS", 200_000),
  seconds: positiveInt("BENCH_SECONDS", 10),
  connections: positiveInt("BENCH_CONNECTIONS", 1_000),
  threads: 2,
  /** Processes for the claim server and the ceiling in the second pair: one per core. */
  workers: positiveInt("BENCH_WORKERS", os.availableParallelism()),
  subscribers: positiveInt("BENCH_SUBSCRIBERS", 10_000),
  openLoopRate: positiveInt("BENCH_OPEN_LOOP_RATE", 5_000),
  skipBuild: process.env.BENCH_SKIP_BUILD === "1",
  adminDatabaseUrl:
    process.env.BENCH_ADMIN_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
});

const SALES = [
  { name: "5,000 units", key: "small", units: 5_000 },
  { name: "100,000 units", key: "large", units: 100_000 },
] as const;
const OVERLOAD_PAUSE_MS = 2_000;
const OVERLOAD_PAUSE_AT_MS = 2_000;
const OVERLOAD_RUN_MS = 6_000;

const step = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export interface HttpScenario {
  scenario: string;
  /** The ceiling it is compared with: the minimal one with as many processes. */
  ceiling: string;
  units: number;
  connections: number;
  attempts: number;
  attemptsPerSec: number;
  /** Answers that said WON, per second of the run. */
  winnersPerSec: number;
  ceilingPerSec: number;
  ratioToCeiling: number;
  /** The ceiling running the full claim.lua, and this scenario's share of it. */
  fullGateCeilingPerSec: number;
  ratioToFullGate: number;
  /** 503s answered while the sale still had stock (before a SOLD_OUT was seen). */
  shedWhileStock: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  ceilingP50Ms: number;
  ceilingP99Ms: number;
  /** CPU the server's processes used per attempt (user + system), and the ceiling's. */
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

/** The counts once the server has answered every request it took (at most ~20 s). */
async function settledCounts(baseUrl: string): Promise<Map<string, number>> {
  const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
  let counts = await attemptCounts(baseUrl);
  for (let polls = 0; polls < 100; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await attemptCounts(baseUrl);
    if (total(next) === total(counts)) return next;
    counts = next;
  }
  return counts;
}

const perSec = (result: WrkResult) => result.requests / (result.durationUs / 1e6);
const wonPerSec = (result: WrkResult) => result.won / (result.durationUs / 1e6);

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
    const unitsOf = Object.fromEntries(SALES.map((sale) => [sale.key, sale.units]));
    const salesOf = async () => ({
      warmup: await deal(1_000_000),
      small: await deal(unitsOf.small ?? 0),
      large: await deal(unitsOf.large ?? 0),
      openLoop: await deal(100_000),
    });
    const deals = {
      ceiling: await salesOf(),
      ceilingWorkers: await salesOf(),
      claimServer: await salesOf(),
      claimWorkers: { ...(await salesOf()), overload: await deal(1) },
      appServer: await salesOf(),
      fanout: await deal(1_000_000),
    };
    const userIds = await createShoppers(db, params.users);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const { tokens, tokensFile } = await writeShopperTokens(userIds, workDir);

    const prefix = `bench:${stamp}:`;
    step("loading the ceiling's gates");
    const redis = createRedis(redisServer.url);
    stops.push(async () => redis.disconnect());
    const loader = new RedisGateLoader(redis, db, prefix);
    for (const id of [...Object.values(deals.ceiling), ...Object.values(deals.ceilingWorkers)]) {
      await loader.ensureLoaded(id);
    }

    const serverEnv = benchServerEnv({
      databaseUrl: database.url,
      redisUrl: redisServer.url,
      keyPrefix: prefix,
    });
    const start = async (name: string, args: string[], env: Record<string, string>) => {
      const port = await freePort();
      const running = startProcess("node", [...SERVER_NODE_FLAGS, ...args], {
        ...env,
        PORT: String(port),
      });
      stops.push(() => running.stop());
      const server = { name, url: `http://127.0.0.1:${port}`, running };
      step(`started ${name} on ${server.url}`);
      return server;
    };
    const ceilingArgs = ["--import", "tsx", "--conditions=react-server", "bench/ceiling-server.ts"];
    const ceilingEnv = { BENCH_REDIS_URL: redisServer.url, BENCH_PREFIX: prefix };
    const workers = params.workers;
    const ceiling = await start("the ceiling", ceilingArgs, ceilingEnv);
    const ceilingWorkers = await start(`the ceiling ×${workers}`, ceilingArgs, {
      ...ceilingEnv,
      CEILING_WORKERS: String(workers),
    });
    const minimalEnv = { ...ceilingEnv, CEILING_GATE: "minimal" };
    const minimal = await start("the minimal ceiling", ceilingArgs, minimalEnv);
    const minimalWorkers = await start(`the minimal ceiling ×${workers}`, ceilingArgs, {
      ...minimalEnv,
      CEILING_WORKERS: String(workers),
    });
    const ceilings = new Set([ceiling, ceilingWorkers, minimal, minimalWorkers]);
    /** A sale on the minimal ceiling: a fresh stock counter, no Postgres. */
    const minimalSale = async (units: number) => {
      const dealId = `minimal-${units}-${newId()}`;
      await redis.set(minimalStockKey(prefix, dealId), units);
      return dealId;
    };
    const claimServer = await start("claim server", ["dist/claim-server.mjs"], serverEnv);
    const claimWorkers = await start(`claim server ×${workers}`, ["dist/claim-server.mjs"], {
      ...serverEnv,
      CLAIM_WORKERS: String(workers),
    });
    const appServer = await start("app server", ["dist/server.mjs"], serverEnv);
    for (const server of ceilings) await waitForHttp(server.url, server.running);
    for (const server of [claimServer, claimWorkers, appServer]) {
      await waitForHttp(`${server.url}/api/claim`, server.running);
    }
    /** Each server beside the ceiling with as many processes, and the deals it sells. */
    const pairs = [
      {
        server: claimServer,
        deals: deals.claimServer,
        ceiling,
        ceilingDeals: deals.ceiling,
        minimal,
      },
      {
        server: claimWorkers,
        deals: deals.claimWorkers,
        ceiling: ceilingWorkers,
        ceilingDeals: deals.ceilingWorkers,
        minimal: minimalWorkers,
      },
      {
        server: appServer,
        deals: deals.appServer,
        ceiling,
        ceilingDeals: deals.ceiling,
        minimal,
      },
    ];

    const wrk = (baseUrl: string, dealId: string, seconds = params.seconds) =>
      runWrk({
        baseUrl,
        dealId,
        tokensFile,
        connections: params.connections,
        threads: params.threads,
        seconds,
      });
    /** One wrk run against one server, with the CPU it used and the outcomes it counted. */
    const measure = async (server: typeof ceiling, dealId: string, seconds = params.seconds) => {
      const counted = !ceilings.has(server);
      const before = counted ? await attemptCounts(server.url) : new Map<string, number>();
      // The server's processes: with workers, the primary and its children.
      const cpu = () => processTreeCpuSeconds(server.running.child.pid);
      const cpuBefore = cpu();
      const run = await wrk(server.url, dealId, seconds);
      const cpuUs = ((cpu() - cpuBefore) * 1e6) / run.requests;
      const after = counted ? await settledCounts(server.url) : new Map<string, number>();
      const outcomes: Record<string, number> = {};
      for (const [outcome, count] of after) {
        const moved = count - (before.get(outcome) ?? 0);
        if (moved > 0) outcomes[outcome] = moved;
      }
      return { run, cpuUs, outcomes };
    };

    step("warming every server up (3 s each)");
    await measure(ceiling, deals.ceiling.warmup, 3);
    await measure(ceilingWorkers, deals.ceilingWorkers.warmup, 3);
    await measure(minimal, await minimalSale(1_000_000), 3);
    await measure(minimalWorkers, await minimalSale(1_000_000), 3);
    for (const pair of pairs) await measure(pair.server, pair.deals.warmup, 3);

    const scenarios: HttpScenario[] = [];
    for (const sale of SALES) {
      const ceilingRuns = new Map<typeof ceiling, Awaited<ReturnType<typeof measure>>>();
      const ceilingRun = async (top: typeof ceiling, dealId: () => Promise<string>) => {
        let run = ceilingRuns.get(top);
        if (!run) {
          step(
            `${sale.name}: ${top.name}, ${params.seconds} s at ${params.connections} connections`,
          );
          run = await measure(top, await dealId());
          ceilingRuns.set(top, run);
        }
        return run;
      };
      for (const pair of pairs) {
        const full = await ceilingRun(pair.ceiling, async () => pair.ceilingDeals[sale.key]);
        const top = await ceilingRun(pair.minimal, () => minimalSale(sale.units));
        const { server } = pair;
        const dealId = pair.deals[sale.key];
        step(`${sale.name}: ${server.name}, ${params.seconds} s`);
        const { run, cpuUs, outcomes } = await measure(server, dealId);
        const audit = await auditSale(db, dealId, sale.units);
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
        const ceilingPerSec = perSec(top.run);
        scenarios.push({
          scenario: `${sale.name}, ${server.name}`,
          ceiling: pair.minimal.name,
          units: sale.units,
          connections: params.connections,
          attempts: run.requests,
          attemptsPerSec,
          winnersPerSec: wonPerSec(run),
          ceilingPerSec,
          ratioToCeiling: attemptsPerSec / ceilingPerSec,
          fullGateCeilingPerSec: perSec(full.run),
          ratioToFullGate: attemptsPerSec / perSec(full.run),
          shedWhileStock: run.shedWhileStock,
          p50Ms: run.p50Us / 1_000,
          p99Ms: run.p99Us / 1_000,
          p999Ms: run.p999Us / 1_000,
          ceilingP50Ms: top.run.p50Us / 1_000,
          ceilingP99Ms: top.run.p99Us / 1_000,
          serverCpuUsPerAttempt: cpuUs,
          ceilingCpuUsPerAttempt: top.cpuUs,
          outcomes,
          non2xx: run.non2xx,
          socketErrors: run.connectErrors + run.readErrors + run.writeErrors + run.timeouts,
          sold: audit.sold,
          oversold: audit.oversold,
          duplicateClaims: audit.duplicateClaims,
          soldCounter: audit.counter,
          problems,
        });
      }
    }

    const rate = params.openLoopRate;
    step(
      `open loop: ${rate}/s for ${params.seconds} s on ${params.connections} open connections, ${minimalWorkers.name}, then ${claimWorkers.name}`,
    );
    const openLoop = async (server: typeof ceiling, dealId: string) => {
      const url = new URL(server.url);
      const cpu = () => processTreeCpuSeconds(server.running.child.pid);
      const cpuBefore = cpu();
      const result = await runOpenLoop({
        host: url.hostname,
        port: Number(url.port),
        path: "/api/claim",
        dealId,
        tokens,
        ratePerSec: rate,
        connections: params.connections,
        seconds: params.seconds,
      });
      return { result, cpuUs: ((cpu() - cpuBefore) * 1e6) / Math.max(1, result.answered) };
    };
    const openTop = await openLoop(minimalWorkers, await minimalSale(100_000));
    const openRun = await openLoop(claimWorkers, deals.claimWorkers.openLoop);
    {
      const { result } = openRun;
      const audit = await auditSale(db, deals.claimWorkers.openLoop, 100_000);
      const attemptsPerSec = result.answered / result.durationS;
      const ceilingPerSec = openTop.result.answered / openTop.result.durationS;
      scenarios.push({
        scenario: `open loop ${rate}/s, 100,000 units, ${claimWorkers.name}`,
        ceiling: minimalWorkers.name,
        units: 100_000,
        connections: params.connections,
        attempts: result.answered,
        attemptsPerSec,
        winnersPerSec: result.won / result.durationS,
        ceilingPerSec,
        ratioToCeiling: attemptsPerSec / ceilingPerSec,
        fullGateCeilingPerSec: Number.NaN,
        ratioToFullGate: Number.NaN,
        shedWhileStock: result.shedWhileStock,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        p999Ms: result.p999Ms,
        ceilingP50Ms: openTop.result.p50Ms,
        ceilingP99Ms: openTop.result.p99Ms,
        serverCpuUsPerAttempt: openRun.cpuUs,
        ceilingCpuUsPerAttempt: openTop.cpuUs,
        outcomes: Object.fromEntries(
          Object.entries(result.byStatus).map(([k, v]) => [`HTTP ${k}`, v]),
        ),
        non2xx: Object.entries(result.byStatus)
          .filter(([status]) => !status.startsWith("2"))
          .reduce((sum, [, n]) => sum + n, 0),
        socketErrors: result.timeouts,
        sold: audit.sold,
        oversold: audit.oversold,
        duplicateClaims: audit.duplicateClaims,
        soldCounter: audit.counter,
        problems: [
          ...(audit.oversold > 0 ? [`oversold by ${audit.oversold}`] : []),
          ...(audit.duplicateClaims > 0 ? [`${audit.duplicateClaims} users hold two claims`] : []),
          ...(result.won > audit.sold ? [`${result.won} told WON, ${audit.sold} recorded`] : []),
        ],
      });
    }

    step(`overload: ${claimWorkers.name} while its Redis is paused for 2 s`);
    // wrk's 1,000 connections keep the server busy; meanwhile a new shopper arrives every
    // 20 ms. Redis stops answering from 2 s to 4 s: the question is what the newcomers hear.
    const paused = setTimeout(() => {
      void redis.client("PAUSE", OVERLOAD_PAUSE_MS, "ALL");
    }, OVERLOAD_PAUSE_AT_MS);
    const [overloadRun, arrivals] = await Promise.all([
      measure(claimWorkers, deals.claimWorkers.overload, OVERLOAD_RUN_MS / 1_000),
      sendArrivals({
        baseUrl: claimWorkers.url,
        dealId: deals.claimWorkers.overload,
        tokens: tokens.slice(-2_000),
        everyMs: 20,
        durationMs: OVERLOAD_RUN_MS,
      }),
    ]);
    clearTimeout(paused);
    const pauseEndsAt = OVERLOAD_PAUSE_AT_MS + OVERLOAD_PAUSE_MS;
    const overload = {
      server: claimWorkers.name,
      pauseMs: OVERLOAD_PAUSE_MS,
      attempts: overloadRun.run.requests,
      outcomes: overloadRun.outcomes,
      non2xx: overloadRun.run.non2xx,
      p50Ms: overloadRun.run.p50Us / 1_000,
      p99Ms: overloadRun.run.p99Us / 1_000,
      maxMs: overloadRun.run.maxUs / 1_000,
      timeouts: overloadRun.run.timeouts,
      arrivals: {
        before: summarise(arrivals, 0, OVERLOAD_PAUSE_AT_MS),
        // The shedder needs one interval (200 ms) without a decision to call the gate stalled.
        duringPause: summarise(arrivals, OVERLOAD_PAUSE_AT_MS, pauseEndsAt),
        after: summarise(arrivals, pauseEndsAt + 500, OVERLOAD_RUN_MS),
      },
      arrivalLog: arrivals,
    };

    step(`live stock: ${params.subscribers.toLocaleString()} subscribers on the app server`);
    const fanout = await measureStockFanout({
      baseUrl: appServer.url,
      serverPid: appServer.running.child.pid ?? 0,
      db,
      sessionSecret: BENCH_SESSION_SECRET,
      dealId: deals.fanout,
      subscribers: params.subscribers,
      redis: { url: redisServer.url, keyPrefix: prefix },
    });

    printTable(scenarios);
    printOverload(overload);
    printFanout(fanout);
    const file = writeResults(
      {
        startedAt: new Date(stamp).toISOString(),
        machine: machine(),
        params,
        scenarios,
        overload,
        fanout,
      },
      "http-sale",
    );
    step(`results: ${file}`);
    const problems = [...scenarios.flatMap((s) => s.problems), ...fanout.problems];
    return problems.length > 0 ? 1 : 0;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await database?.drop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

function printOverload(overload: {
  server: string;
  pauseMs: number;
  attempts: number;
  outcomes: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  timeouts: number;
  arrivals: Record<string, PhaseSummary>;
}) {
  const listed = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  console.log(
    `\nOverload: ${overload.server} under wrk's 1,000 connections, its Redis paused ${overload.pauseMs} ms in a ${OVERLOAD_RUN_MS / 1_000} s run`,
  );
  console.log(
    `  wrk: ${overload.attempts} attempts; ${listed(overload.outcomes)}; p50 ${overload.p50Ms.toFixed(1)} ms, p99 ${overload.p99Ms.toFixed(1)} ms, max ${overload.maxMs.toFixed(0)} ms, ${overload.timeouts} timeouts`,
  );
  for (const [phase, summary] of Object.entries(overload.arrivals)) {
    console.log(
      `  new shoppers ${phase.padEnd(11)}: ${String(summary.arrivals).padStart(3)} arrivals; HTTP ${listed(summary.byStatus)}; answered p50 ${summary.p50Ms.toFixed(0)} ms, p99 ${summary.p99Ms.toFixed(0)} ms`,
    );
  }
}

function printFanout(f: StockFanoutResult) {
  const mb = (bytes: number) => (bytes / 1_048_576).toFixed(0);
  console.log(
    `\nLive stock: ${f.subscribers.connected}/${f.subscribers.asked} SSE subscribers on one deal, connected in ${f.connectMs} ms; ` +
      `server RSS ${mb(f.rssBeforeBytes)} → ${mb(f.rssAfterBytes)} MiB (${(f.bytesPerSubscriber / 1024).toFixed(1)} KiB per subscriber); ` +
      `claim → subscriber p50 ${f.delayMs.p50.toFixed(0)} ms, p99 ${f.delayMs.p99.toFixed(0)} ms, max ${f.delayMs.max.toFixed(0)} ms; ` +
      `claim → everyone p99 ${f.everyoneSeenMs.p99.toFixed(0)} ms; missed updates ${f.missedUpdates}` +
      (f.problems.length > 0 ? `; PROBLEMS: ${f.problems.join("; ")}` : ""),
  );
}

function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version };
}

function printTable(scenarios: HttpScenario[]) {
  const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
  const rows = [
    [
      "scenario",
      "attempts/s",
      "winners/s",
      "ceiling/s",
      "ratio",
      "claim.lua/s",
      "ratio",
      "p50 ms",
      "p99 ms",
      "p99.9 ms",
      "503 in stock",
      "oversold",
      "dup",
      "cpu µs",
      "sold",
      "outcomes",
    ],
    ...scenarios.map((s) => [
      s.scenario,
      fixed(s.attemptsPerSec),
      fixed(s.winnersPerSec),
      fixed(s.ceilingPerSec),
      fixed(s.ratioToCeiling, 2),
      fixed(s.fullGateCeilingPerSec),
      fixed(s.ratioToFullGate, 2),
      fixed(s.p50Ms, 1),
      fixed(s.p99Ms, 1),
      fixed(s.p999Ms, 1),
      String(s.shedWhileStock),
      String(s.oversold),
      String(s.duplicateClaims),
      fixed(s.serverCpuUsPerAttempt),
      `${s.sold}/${s.units}`,
      Object.entries(s.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ]),
  ];
  const last = (rows[0]?.length ?? 1) - 1;
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  console.log(
    "\nceiling: the minimal one (node:http, JSON, one EVALSHA check-and-decrement) with as many processes; claim.lua: the same running the full gate",
  );
  for (const row of rows) {
    console.log(
      row
        .map((cell, c) =>
          c === 0 || c === last ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0),
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

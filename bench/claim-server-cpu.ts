/**
 * `npm run bench:cpu [build ...]`: the claim server's CPU per attempt, for comparing builds
 * in one run on a noisy machine. Each build (a bundled claim server, default
 * `dist/claim-server.mjs`; copy an older build to `dist/base/claim-server.mjs` to compare;
 * node flags may come first, in the same argument: "--max-semi-space-size=32 dist/…")
 * runs as its own process; rounds alternate between them, each round selling a fresh
 * 1,000-unit deal to wrk's 1,000 connections after a warm-up on a sold-out deal. Prints every
 * round and each build's median CPU µs per attempt. BENCH_UNITS sets the measured deals' size:
 * 1,000 sells out at once and measures refusals; 100,000 keeps every attempt a winner. With BENCH_CPU_PROFILE=1 each build runs
 * under `--cpu-prof` and the functions that used the most CPU are printed (the
 * `.cpuprofile` files stay in the printed folder for Chrome DevTools).
 * Knobs (env): BENCH_USERS (20,000), BENCH_UNITS (1,000), BENCH_SECONDS (5), BENCH_ROUNDS (3),
 * BENCH_CONNECTIONS (1,000), BENCH_ADMIN_DATABASE_URL. Needs `npm run build` first.
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RedisClient } from "@/server/redis/client";
import { cpuSeconds, freePort, type Running, startProcess, waitForHttp } from "@/testing/processes";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { printSelfTime, selfTimeIn } from "./cpu-profile";
import { attemptCounts, benchServerEnv, startBenchStores, writeShopperTokens } from "./processes";
import { percentile, positiveInt } from "./report";
import { runWrk } from "./wrk";

const step = (message: string) => process.stderr.write(`[cpu] ${message}\n`);

interface Build {
  entry: string;
  running: Running;
  baseUrl: string;
  profileDir: string;
  cpuUs: number[];
  attemptsPerSec: number[];
  winnersPerSec: number[];
  p99Ms: number[];
}

async function main() {
  const users = positiveInt("BENCH_USERS", 20_000);
  const seconds = positiveInt("BENCH_SECONDS", 5);
  const rounds = positiveInt("BENCH_ROUNDS", 3);
  const units = positiveInt("BENCH_UNITS", 1_000);
  const connections = positiveInt("BENCH_CONNECTIONS", 1_000);
  const profiling = process.env.BENCH_CPU_PROFILE === "1";
  const entries = process.argv.slice(2);
  if (entries.length === 0) entries.push("dist/claim-server.mjs");
  const stamp = Date.now();
  const workDir = path.join(os.tmpdir(), `dealdrop-cpu-${stamp}`);
  mkdirSync(workDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  try {
    const { redisServer, redis, database } = await startBenchStores(`dealdrop_cpu_${stamp}`, stops);
    const { db } = database;
    step(`seeding ${users.toLocaleString()} shoppers`);
    const merchant = await createMerchant(db);
    const deal = async (quantity: number) =>
      (await createDeal(db, merchant.id, { quantity, now: new Date() })).id;
    const { tokensFile } = await writeShopperTokens(await createShoppers(db, users), workDir);

    const builds: Build[] = [];
    for (const [i, entry] of entries.entries()) {
      const port = await freePort();
      const profileDir = path.join(workDir, `build-${i}`);
      const flags = profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
      const running = startProcess("node", [...flags, ...entry.split(" ")], {
        ...benchServerEnv({
          databaseUrl: database.url,
          redisUrl: redisServer.url,
          keyPrefix: `cpu:${stamp}:${i}:`,
        }),
        PORT: String(port),
      });
      stops.push(() => running.stop());
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitForHttp(`${baseUrl}/api/claim`, running);
      builds.push({
        entry,
        running,
        baseUrl,
        profileDir,
        cpuUs: [],
        attemptsPerSec: [],
        winnersPerSec: [],
        p99Ms: [],
      });
    }
    const wrk = (build: Build, dealId: string, runSeconds: number) =>
      runWrk({
        baseUrl: build.baseUrl,
        dealId,
        tokensFile,
        connections,
        threads: 2,
        seconds: runSeconds,
      });
    for (const build of builds) {
      step(`${build.entry}: warming up on a sold-out deal (3 s)`);
      await wrk(build, await deal(1), 3);
      await attemptCounts(build.baseUrl); // a scrape, as Prometheus would make
    }
    for (let round = 1; round <= rounds; round++) {
      for (const build of builds) {
        const dealId = await deal(units);
        const countsBefore = await attemptCounts(build.baseUrl);
        const commandsBefore = await redisCommands(redis);
        const cpuBefore = cpuSeconds(build.running.child.pid);
        const run = await wrk(build, dealId, seconds);
        const cpuUs = ((cpuSeconds(build.running.child.pid) - cpuBefore) * 1e6) / run.requests;
        const commands = (await redisCommands(redis)) - commandsBefore;
        await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last answers
        const countsAfter = await attemptCounts(build.baseUrl);
        const outcomes = [...countsAfter]
          .map(([outcome, count]) => `${outcome} ${count - (countsBefore.get(outcome) ?? 0)}`)
          .filter((counted) => !counted.endsWith(" 0"));
        const won = (countsAfter.get("WON") ?? 0) - (countsBefore.get("WON") ?? 0);
        const perSec = run.requests / (run.durationUs / 1e6);
        build.cpuUs.push(cpuUs);
        build.attemptsPerSec.push(perSec);
        build.winnersPerSec.push(won / (run.durationUs / 1e6));
        build.p99Ms.push(run.p99Us / 1e3);
        console.log(
          `round ${round} ${build.entry}: ${Math.round(perSec).toLocaleString()} attempts/s, ` +
            `p50 ${(run.p50Us / 1e3).toFixed(0)} ms, p99 ${(run.p99Us / 1e3).toFixed(0)} ms, ${cpuUs.toFixed(0)} µs CPU per attempt, ` +
            `${(commands / run.requests).toFixed(2)} Redis commands per attempt; ${outcomes.join(", ")}`,
        );
      }
    }
    for (const build of builds) {
      const outcomes = [...(await attemptCounts(build.baseUrl))].filter(([, count]) => count > 0);
      console.log(
        `${build.entry}: median ${median(build.cpuUs).toFixed(0)} µs CPU per attempt, ` +
          `${median(build.attemptsPerSec).toFixed(0)} attempts/s, ${median(build.winnersPerSec).toFixed(0)} winners/s, ` +
          `p99 ${median(build.p99Ms).toFixed(0)} ms; ` +
          `outcomes ${outcomes.map(([outcome, count]) => `${outcome} ${count}`).join(", ")}`,
      );
    }
    if (!profiling) return;
    for (const build of builds) {
      await build.running.stop();
      console.log(`\n${build.entry} (whole process): ${build.profileDir}`);
      printSelfTime(selfTimeIn(build.profileDir));
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Commands Redis has run so far (scripts' own calls included), from INFO commandstats. */
async function redisCommands(redis: RedisClient): Promise<number> {
  const stats = await redis.info("commandstats");
  let calls = 0;
  for (const match of stats.matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  return calls;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

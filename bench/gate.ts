/**
 * The same flash sale decided by four designs, each on its own fresh deal: the Redis gate,
 * the embedded Postgres gate, a Postgres row lock and a Redis lock around database work.
 * Run with `npm run bench:gate`. Knobs (env): BENCH_UNITS, BENCH_USERS, BENCH_ATTEMPTS,
 * BENCH_CONCURRENCY, BENCH_SECONDS_PER_DESIGN, BENCH_REDIS_URL, BENCH_ADMIN_DATABASE_URL.
 */
import os from "node:os";
import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import { type Db, rowsOf } from "@/db/client";
import { createScratchDatabase } from "@/db/scratch-database";
import { createRedis } from "@/server/redis/client";
import { countingLogger, totalQueryCount } from "@/testing/query-count";
import { planAttempts } from "./attempt-plan";
import { lineUpDesigns } from "./designs/lineup";
import { formatTable, positiveInt, type Scenario, writeResults } from "./report";
import { runAttempts } from "./run-attempts";
import { auditSale, seedSale, warmPool } from "./sale-fixture";

const POOL_SIZE = 20;
const DRAIN_MS = 30_000;

/** Read inside main, so that a bad value is reported like any other failure. */
const readParams = () => ({
  units: positiveInt("BENCH_UNITS", 1_000),
  users: positiveInt("BENCH_USERS", 20_000),
  attempts: positiveInt("BENCH_ATTEMPTS", 100_000),
  concurrency: positiveInt("BENCH_CONCURRENCY", 256),
  secondsPerDesign: positiveInt("BENCH_SECONDS_PER_DESIGN", 60),
  retryShare: 0.1,
  seed: 20_261_122,
  poolSize: POOL_SIZE,
  redisUrl: process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379",
  adminDatabaseUrl:
    process.env.BENCH_ADMIN_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
});

/** SCAN, not KEYS: never block a shared Redis, even for a cleanup. */
async function deleteKeysByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [nextCursor, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
    cursor = nextCursor;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== "0");
  return deleted;
}

async function main(): Promise<number> {
  const params = readParams();
  const stamp = Date.now();
  const keyPrefix = `bench:${stamp}:`;
  const plan = planAttempts(params);
  const retries = plan.filter((attempt) => attempt.retry).length;
  const database = await createScratchDatabase({
    adminUrl: params.adminDatabaseUrl,
    name: `dealdrop_bench_${stamp}`,
    poolSize: POOL_SIZE,
    logger: countingLogger,
  });
  const redis = createRedis(params.redisUrl);
  try {
    const { db } = database;
    const designs = lineUpDesigns({ db, redis, keyPrefix, units: params.units });
    const sale = await seedSale(db, {
      users: params.users,
      units: params.units,
      designs: designs.map((d) => d.name),
    });
    await warmPool(db, POOL_SIZE);
    process.stderr.write(
      `database ${database.name}, redis prefix ${keyPrefix}, ${plan.length} attempts (${retries} retries)\n`,
    );

    const scenarios: Scenario[] = [];
    for (const design of designs) {
      const deal = sale.deals[design.name];
      if (!deal) throw new Error(`no deal was seeded for ${design.name}`);
      await design.engine.claim({
        dealId: deal.warmupDealId,
        userId: sale.warmupUserId,
        idempotencyKey: "warm-up-key",
        now: new Date(),
      });
      await design.prepare?.(deal.dealId);

      const queriesBefore = totalQueryCount();
      const stats = await runAttempts({
        design: design.name,
        engine: design.engine,
        dealId: deal.dealId,
        plan,
        userIds: sale.userIds,
        concurrency: params.concurrency,
        seconds: params.secondsPerDesign,
        drainMs: DRAIN_MS,
      });
      const sqlStatements = totalQueryCount() - queriesBefore;

      const audit = await auditSale(db, deal.dealId, params.units);
      const problems = [
        ...(audit.oversold > 0 ? [`oversold by ${audit.oversold}`] : []),
        ...(audit.duplicateClaims > 0
          ? [`${audit.duplicateClaims} users hold two active claims`]
          : []),
        ...(audit.counter !== audit.sold
          ? [`deals.sold is ${audit.counter}, claims say ${audit.sold}`]
          : []),
        ...(stats.won > audit.sold
          ? [`${stats.won} told WON but only ${audit.sold} claims recorded`]
          : []),
        ...((await design.audit?.(deal.dealId, audit.sold)) ?? []),
      ];
      for (const problem of problems)
        process.stderr.write(`[${design.name}] PROBLEM: ${problem}\n`);
      const { abandoned: _abandoned, ...run } = stats;
      scenarios.push({
        ...run,
        design: design.name,
        letter: design.letter,
        sold: audit.sold,
        oversold: audit.oversold,
        duplicateClaims: audit.duplicateClaims,
        ratioToRedisGate: 0,
        sqlPerAttempt: stats.issued > 0 ? sqlStatements / stats.issued : 0,
        dealSoldCounter: audit.counter,
        problems,
      });
    }

    const gateRate = scenarios[0]?.attemptsPerSec ?? Number.NaN;
    for (const scenario of scenarios)
      scenario.ratioToRedisGate = gateRate / scenario.attemptsPerSec;

    process.stdout.write(`${formatTable(scenarios)}\n`);
    const file = writeResults({
      createdAt: new Date().toISOString(),
      parameters: { ...params, retries },
      machine: await machineInfo(db, redis),
      scenarios,
    });
    process.stderr.write(`results written to ${file}\n`);
    return scenarios.some((s) => s.problems.length > 0) ? 1 : 0;
  } finally {
    const deleted = await deleteKeysByPrefix(redis, keyPrefix).catch((error) => {
      process.stderr.write(`could not delete the Redis keys ${keyPrefix}*: ${error}\n`);
      return 0;
    });
    await redis.quit().catch(() => redis.disconnect());
    await database.drop();
    process.stderr.write(`cleaned up: dropped ${database.name}, deleted ${deleted} Redis keys\n`);
  }
}

async function machineInfo(db: Db, redis: Redis) {
  const [pg] = rowsOf<{ version: string }>(await db.execute(sql`SELECT version()`));
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1];
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    totalMemoryMb: Math.round(os.totalmem() / 1_048_576),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    postgres: pg?.version,
    redis: redisVersion,
  };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`bench:gate failed: ${error instanceof Error ? error.stack : error}\n`);
    process.exitCode = 1;
  },
);

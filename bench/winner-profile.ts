/**
 * `npm run bench:profile`: where a winner's time goes. A large free sale (100,000 units by
 * default) on the claim server with one worker per core, every process under `--cpu-prof`,
 * while Postgres and Redis are asked what they did: statements per winner (pg_stat_statements
 * when the server preloads it, else transactions and rows from pg_stat_database and
 * pg_stat_user_tables), what the backends waited on (pg_stat_activity sampled every 50 ms),
 * Redis commands per winner, and the CPU each process used. Prints it all, and the top
 * self-time functions summed over the workers; writes bench/results/winner-profile-*.json.
 *
 * pg_stat_statements needs `shared_preload_libraries = 'pg_stat_statements'`; a Postgres of
 * your own for this is one initdb away (docs/performance.md says how), and
 * BENCH_ADMIN_DATABASE_URL points the run at it.
 * Knobs (env): BENCH_UNITS (100,000), BENCH_USERS (120,000), BENCH_SECONDS (15),
 * BENCH_CONNECTIONS (1,000), BENCH_WORKERS (cores), BENCH_ADMIN_DATABASE_URL.
 * Needs `node server/http/build.mjs` (or `npm run build`) first.
 */
import { mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { RedisClient } from "@/server/redis/client";
import { freePort, processTreeCpuSeconds, startProcess, waitForHttp } from "@/testing/processes";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { printSelfTime, selfTimeIn } from "./cpu-profile";
import {
  attemptCounts,
  benchAdminUrl,
  benchServerEnv,
  SERVER_NODE_FLAGS,
  startBenchStores,
  writeShopperTokens,
} from "./processes";
import { positiveInt, writeResults } from "./report";
import { auditSale } from "./sale-fixture";
import { runWrk } from "./wrk";

const step = (message: string) => process.stderr.write(`[profile] ${message}\n`);

interface StatementStats {
  query: string;
  calls: number;
  rows: number;
  totalMs: number;
  meanMs: number;
}

async function main() {
  const units = positiveInt("BENCH_UNITS", 100_000);
  const users = positiveInt("BENCH_USERS", 120_000);
  const seconds = positiveInt("BENCH_SECONDS", 15);
  const connections = positiveInt("BENCH_CONNECTIONS", 1_000);
  const workers = positiveInt("BENCH_WORKERS", os.availableParallelism());
  const adminUrl = benchAdminUrl();
  const stamp = Date.now();
  const workDir = path.join(os.tmpdir(), `dealdrop-profile-${stamp}`);
  const profileDir = path.join(workDir, "cpu");
  mkdirSync(profileDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const { redisServer, redis, database } = await startBenchStores(
      `dealdrop_profile_${stamp}`,
      stops,
    );
    const { db } = database;
    step(`seeding ${users.toLocaleString()} shoppers`);
    const merchant = await createMerchant(db);
    const dealId = (await createDeal(db, merchant.id, { quantity: units, now: new Date() })).id;
    const warmupId = (await createDeal(db, merchant.id, { quantity: 1, now: new Date() })).id;
    const { tokensFile } = await writeShopperTokens(await createShoppers(db, users), workDir);

    const port = await freePort();
    const running = startProcess(
      "node",
      [...SERVER_NODE_FLAGS, "--cpu-prof", `--cpu-prof-dir=${profileDir}`, "dist/claim-server.mjs"],
      {
        ...benchServerEnv({
          databaseUrl: database.url,
          redisUrl: redisServer.url,
          keyPrefix: `profile:${stamp}:`,
        }),
        PORT: String(port),
        CLAIM_WORKERS: String(workers),
      },
    );
    stops.push(() => running.stop());
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${baseUrl}/api/claim`, running);
    const wrk = (deal: string, runSeconds: number) =>
      runWrk({ baseUrl, dealId: deal, tokensFile, connections, threads: 2, seconds: runSeconds });
    step("warming up on a one-unit deal (3 s)");
    await wrk(warmupId, 3);
    // The warm-up's one winner took the first shopper; nobody else has a claim.

    const hasStatements = await statementsAvailable(admin);
    if (hasStatements) await admin`SELECT pg_stat_statements_reset()`;
    const postmaster = await postmasterPid(admin);
    const dbBefore = await databaseCounters(admin, database.name);
    const tablesBefore = await tableCounters(database.url);
    const redisBefore = await redisStats(redis);
    const countsBefore = await attemptCounts(baseUrl);
    const cpuBefore = {
      server: processTreeCpuSeconds(running.child.pid),
      postgres: processTreeCpuSeconds(postmaster),
    };
    const waits = sampleWaits(admin, database.name);

    step(
      `${units.toLocaleString()}-unit free sale: wrk ${seconds} s at ${connections} connections`,
    );
    const run = await wrk(dealId, seconds);
    const waitSamples = await waits.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last answers
    const cpu = {
      server: processTreeCpuSeconds(running.child.pid) - cpuBefore.server,
      postgres: processTreeCpuSeconds(postmaster) - cpuBefore.postgres,
    };
    const countsAfter = await attemptCounts(baseUrl);
    const outcomes = Object.fromEntries(
      [...countsAfter]
        .map(([k, v]) => [k, v - (countsBefore.get(k) ?? 0)] as const)
        .filter(([, v]) => v > 0),
    );
    const redisAfter = await redisStats(redis);
    const dbAfter = await databaseCounters(admin, database.name);
    const tablesAfter = await tableCounters(database.url);
    const statements = hasStatements ? await statementStats(admin, database.name) : [];
    const audit = await auditSale(db, dealId, units);
    const winners = outcomes.WON ?? 0;

    step("stopping the server to write its profiles");
    await running.stop();
    const self = selfTimeIn(profileDir);

    const per = (n: number) => (winners > 0 ? n / winners : Number.NaN);
    const attemptsPerSec = run.requests / (run.durationUs / 1e6);
    const summary = {
      units,
      users,
      seconds,
      connections,
      workers,
      attempts: run.requests,
      attemptsPerSec,
      winners,
      winnersPerSec: winners / (run.durationUs / 1e6),
      p50Ms: run.p50Us / 1e3,
      p99Ms: run.p99Us / 1e3,
      p999Ms: run.p999Us / 1e3,
      outcomes,
      audit,
      cpuUsPerWinner: { server: per(cpu.server * 1e6), postgres: per(cpu.postgres * 1e6) },
      redis: {
        commandsPerWinner: per(redisAfter.calls - redisBefore.calls),
        cpuUsPerWinner: per((redisAfter.cpuSeconds - redisBefore.cpuSeconds) * 1e6),
        byCommand: Object.fromEntries(
          Object.entries(redisAfter.byCommand)
            .map(([k, v]) => [k, per(v - (redisBefore.byCommand[k] ?? 0))] as const)
            .filter(([, v]) => v > 0),
        ),
      },
      postgres: {
        xactCommitPerWinner: per(dbAfter.xact_commit - dbBefore.xact_commit),
        xactRollbackPerWinner: per(dbAfter.xact_rollback - dbBefore.xact_rollback),
        walBytesPerWinner: per(dbAfter.wal_bytes - dbBefore.wal_bytes),
        walSyncs: dbAfter.wal_sync - dbBefore.wal_sync,
        statementsPerWinner: hasStatements
          ? per(statements.reduce((sum, s) => sum + s.calls, 0))
          : null,
        statements: statements.map((s) => ({ ...s, callsPerWinner: per(s.calls) })),
        tables: Object.fromEntries(
          Object.entries(tablesAfter).map(([table, after]) => {
            const before = tablesBefore[table] ?? { ins: 0, upd: 0 };
            return [
              table,
              {
                insPerWinner: per(after.ins - before.ins),
                updPerWinner: per(after.upd - before.upd),
              },
            ];
          }),
        ),
        waits: waitSamples,
      },
      topFunctions: self.byFunction
        .slice(0, 40)
        .map(([name, us]) => ({ name, share: us / self.totalUs })),
      topPlaces: self.byPlace
        .slice(0, 20)
        .map(([name, us]) => ({ name, share: us / self.totalUs })),
      profileDir,
    };
    print(summary);
    printSelfTime(self);
    step(`results: ${writeResults(summary, "winner-profile")}; profiles in ${profileDir}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await admin.end({ timeout: 5 });
  }
}

function print(s: {
  attemptsPerSec: number;
  winnersPerSec: number;
  p50Ms: number;
  p99Ms: number;
  winners: number;
  outcomes: Record<string, number>;
  cpuUsPerWinner: { server: number; postgres: number };
  redis: { commandsPerWinner: number; cpuUsPerWinner: number; byCommand: Record<string, number> };
  postgres: {
    xactCommitPerWinner: number;
    walBytesPerWinner: number;
    walSyncs: number;
    statementsPerWinner: number | null;
    statements: (StatementStats & { callsPerWinner: number })[];
    tables: Record<string, { insPerWinner: number; updPerWinner: number }>;
    waits: Record<string, number>;
  };
}) {
  const f = (n: number, digits = 2) => n.toFixed(digits);
  console.log(
    `\n${Math.round(s.attemptsPerSec)} attempts/s, ${Math.round(s.winnersPerSec)} winners/s ` +
      `(${s.winners} winners), p50 ${f(s.p50Ms, 0)} ms, p99 ${f(s.p99Ms, 0)} ms; ` +
      Object.entries(s.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
  );
  console.log(
    `CPU per winner: claim server ${f(s.cpuUsPerWinner.server, 0)} µs, Postgres ${f(s.cpuUsPerWinner.postgres, 0)} µs, Redis ${f(s.redis.cpuUsPerWinner, 0)} µs`,
  );
  console.log(
    `Redis commands per winner: ${f(s.redis.commandsPerWinner)} (${Object.entries(s.redis.byCommand)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(", ")})`,
  );
  console.log(
    `Postgres per winner: ${f(s.postgres.xactCommitPerWinner, 3)} commits, ${f(s.postgres.walBytesPerWinner, 0)} WAL bytes` +
      `${s.postgres.statementsPerWinner === null ? "" : `, ${f(s.postgres.statementsPerWinner, 3)} statements`}; ${s.postgres.walSyncs} WAL syncs`,
  );
  for (const [table, t] of Object.entries(s.postgres.tables)) {
    if (t.insPerWinner > 0 || t.updPerWinner > 0) {
      console.log(
        `  ${table}: ${f(t.insPerWinner, 3)} rows inserted, ${f(t.updPerWinner, 3)} updated per winner`,
      );
    }
  }
  for (const st of s.postgres.statements.slice(0, 12)) {
    console.log(
      `  ${f(st.callsPerWinner, 4).padStart(8)} calls/winner  ${f(st.meanMs, 2).padStart(8)} ms mean  ${f(st.totalMs, 0).padStart(7)} ms total  ${st.query.replace(/\s+/g, " ").slice(0, 110)}`,
    );
  }
  const samples = Object.values(s.postgres.waits).reduce((a, b) => a + b, 0);
  console.log(
    `Backends of this database, sampled every 50 ms (${samples} backend samples): ` +
      Object.entries(s.postgres.waits)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${((100 * v) / samples).toFixed(0)}%`)
        .join(", "),
  );
}

async function statementsAvailable(admin: postgres.Sql): Promise<boolean> {
  const [row] = await admin`SELECT 1 AS ok FROM pg_extension WHERE extname = 'pg_stat_statements'`;
  if (!row) return false;
  return admin`SELECT 1 FROM pg_stat_statements LIMIT 1`.then(
    () => true,
    () => false,
  );
}

async function statementStats(admin: postgres.Sql, dbName: string): Promise<StatementStats[]> {
  const rows = await admin`
    SELECT s.query, s.calls::float8 AS calls, s.rows::float8 AS rows,
           s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = ${dbName}
    ORDER BY s.calls DESC`;
  return rows.map((r) => ({
    query: String(r.query),
    calls: Number(r.calls),
    rows: Number(r.rows),
    totalMs: Number(r.total_ms),
    meanMs: Number(r.mean_ms),
  }));
}

async function postmasterPid(admin: postgres.Sql): Promise<number | undefined> {
  const [row] = await admin`SELECT pg_backend_pid() AS pid`;
  try {
    const stat = readFileSync(`/proc/${row?.pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined; // Postgres on another machine: its CPU is not ours to read
  }
}

async function databaseCounters(admin: postgres.Sql, dbName: string) {
  const [row] = await admin`
    SELECT xact_commit::float8, xact_rollback::float8,
           (SELECT wal_bytes::float8 FROM pg_stat_wal) AS wal_bytes,
           (SELECT wal_sync::float8 FROM pg_stat_wal) AS wal_sync
    FROM pg_stat_database WHERE datname = ${dbName}`;
  return {
    xact_commit: Number(row?.xact_commit ?? 0),
    xact_rollback: Number(row?.xact_rollback ?? 0),
    wal_bytes: Number(row?.wal_bytes ?? 0),
    wal_sync: Number(row?.wal_sync ?? 0),
  };
}

/** Rows inserted and updated per table (statistics lag by up to half a second). */
async function tableCounters(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await new Promise((resolve) => setTimeout(resolve, 600));
    const rows = await sql`
      SELECT relname, n_tup_ins::float8 AS ins, n_tup_upd::float8 AS upd FROM pg_stat_user_tables`;
    return Object.fromEntries(
      rows.map((r) => [String(r.relname), { ins: Number(r.ins), upd: Number(r.upd) }]),
    ) as Record<string, { ins: number; upd: number }>;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What this database's backends are doing, sampled until `stop`. */
function sampleWaits(admin: postgres.Sql, dbName: string) {
  const counts: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await admin`
        SELECT state, wait_event_type, wait_event FROM pg_stat_activity
        WHERE datname = ${dbName} AND pid <> pg_backend_pid()`;
      for (const r of rows) {
        const what =
          r.state === "active"
            ? r.wait_event
              ? `active:${r.wait_event_type}:${r.wait_event}`
              : "active:CPU"
            : `${r.state}`;
        counts[what] = (counts[what] ?? 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return counts;
    },
  };
}

async function redisStats(redis: RedisClient) {
  const stats = await redis.info("commandstats");
  const byCommand: Record<string, number> = {};
  let calls = 0;
  for (const match of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    byCommand[match[1] as string] = Number(match[2]);
    calls += Number(match[2]);
  }
  const cpu = await redis.info("cpu");
  const used = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return { calls, byCommand, cpuSeconds: used("used_cpu_user") + used("used_cpu_sys") };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

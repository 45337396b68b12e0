/** What the HTTP bench needs beyond the shared process helpers (testing/processes.ts). */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createScratchDatabase } from "@/db/scratch-database";
import { SessionCodec } from "@/server/auth/session";
import { createRedis } from "@/server/redis/client";
import { startPrivateRedis } from "@/testing/private-redis";
import { UNUSED_STRIPE_ENV } from "@/testing/production-payments";

/** Runs a command to its end, its output passed through; throws on a non-zero exit. */
export function runToEnd(command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: "inherit" });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}`)),
    );
  });
}

/**
 * Node flags for every server the bench starts, the ceiling included: the ones package.json's
 * start scripts use (a larger young generation: see README, "Speed").
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=64"];

/** The session secret of every server the bench starts, so the bench can sign shoppers in. */
export const BENCH_SESSION_SECRET = "bench-session-secret-that-is-long-enough-0123456789";

/**
 * TRUSTED_PROXIES of every server the bench starts: the bench's crowd sends from loopback,
 * each shopper's address in X-Forwarded-For, as a crowd behind one proxy hop arrives.
 */
export const BENCH_TRUSTED_PROXIES = "127.0.0.1";

/** The metrics token the bench gives every server it starts. */
export const BENCH_METRICS_TOKEN = "bench-metrics-token-0123456789";

/** Where the bench makes its scratch databases (BENCH_ADMIN_DATABASE_URL). */
export const benchAdminUrl = () =>
  process.env.BENCH_ADMIN_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * A private redis-server with a connection to it, and a scratch Postgres database named
 * `name`, for one bench run. Each is pushed on `stops` (run last first), the database's drop
 * so that it runs after everything else has stopped.
 */
export async function startBenchStores(name: string, stops: (() => Promise<void>)[]) {
  const redisServer = await startPrivateRedis();
  stops.push(() => redisServer.stop());
  const redis = createRedis(redisServer.url);
  stops.push(async () => redis.disconnect());
  const database = await createScratchDatabase({ adminUrl: benchAdminUrl(), name, poolSize: 10 });
  stops.unshift(() => database.drop());
  return { redisServer, redis, database };
}

/**
 * The environment of every Dealdrop server the bench starts (claim server or app server),
 * beside the port, worker count and node flags each run chooses.
 */
export function benchServerEnv(where: {
  databaseUrl: string;
  redisUrl: string;
  keyPrefix: string;
}): Record<string, string> {
  return {
    NODE_ENV: "production",
    HOSTNAME: "127.0.0.1",
    DATABASE_URL: where.databaseUrl,
    REDIS_URL: where.redisUrl,
    REDIS_KEY_PREFIX: where.keyPrefix,
    SESSION_SECRET: BENCH_SESSION_SECRET,
    VOUCHER_KEY_SECRET: BENCH_SESSION_SECRET,
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    TRUSTED_PROXIES: BENCH_TRUSTED_PROXIES,
    DEMO_SEED: "off",
    ...UNUSED_STRIPE_ENV,
    LOG_LEVEL: "warn",
  };
}

/**
 * Signs each shopper in as the bench's servers will accept them and writes the tokens, one a
 * line, to `tokens.txt` in `workDir` (wrk's claim.lua reads that file). Returns both.
 */
export async function writeShopperTokens(userIds: string[], workDir: string) {
  const codec = new SessionCodec(BENCH_SESSION_SECRET);
  const tokens: string[] = [];
  for (const [i, userId] of userIds.entries()) {
    tokens.push(await codec.issue({ userId, role: "shopper", displayName: `Shopper ${i}` }));
  }
  const tokensFile = path.join(workDir, "tokens.txt");
  writeFileSync(tokensFile, `${tokens.join("\n")}\n`);
  return { tokens, tokensFile };
}

/** The Prometheus text of a server the bench started. */
export async function scrapeMetrics(baseUrl: string): Promise<string> {
  const response = await fetch(new URL("/api/metrics", baseUrl), {
    headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${baseUrl}/api/metrics answered ${response.status}`);
  return response.text();
}

/** Claim outcomes counted by a server the bench started. */
export async function attemptCounts(baseUrl: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await scrapeMetrics(baseUrl)).split("\n")) {
    const match = /^dealdrop_claim_attempts_total\{outcome="(\w+)"\} (\d+)/.exec(line);
    if (match?.[1] && match[2]) counts.set(match[1], Number(match[2]));
  }
  return counts;
}

import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import type { ClaimService } from "@/server/claims/claim-service";
import { gateKeys } from "@/server/claims/gate-keys";
import { parseEnv } from "@/server/env";
import { DomainError } from "@/server/errors";
import { log } from "@/server/log";
import type { RedisClient } from "@/server/redis/client";
import { createServices, type Services } from "@/testing/wired-services";
import { type PrivateRedis, startPrivateRedis } from "./private-redis";
import { createTestDatabase, type TestDatabase } from "./test-database";

/**
 * What the fault tests share: the environment of an app instance under test, claim waves
 * with every answer kept, bounded waits, and Postgres's and the gate's view of a deal.
 */

/** Raw environment of an app instance: for parseEnv here, or for a child process. */
export function faultEnv(urls: { databaseUrl: string; redisUrl?: string; keyPrefix?: string }) {
  return {
    NODE_ENV: "test" as const,
    DATABASE_URL: urls.databaseUrl,
    REDIS_URL: urls.redisUrl ?? "",
    REDIS_KEY_PREFIX: urls.keyPrefix ?? "fault:",
    SESSION_SECRET: "fault-tests-session-secret-0123456789abcdef",
    VOUCHER_KEY_SECRET: "fault-tests-voucher-key-secret-0123456789abcdef",
    DEMO_SEED: "off",
    LOG_LEVEL: "silent",
  };
}

/**
 * A fault test's world: a scratch database, a private Redis it may kill (or none: the
 * embedded gate), quiet app logs, and the app instances it starts; `stop` undoes it all.
 */
export interface FaultWorld {
  database: TestDatabase;
  redis: PrivateRedis | null;
  /** A new app instance (services of its own), reaching Postgres at `databaseUrl`. */
  startApp(databaseUrl?: string): Promise<Services>;
  stop(): Promise<void>;
}

export async function startFaultWorld(options: {
  keyPrefix: string;
  redis: boolean;
}): Promise<FaultWorld> {
  const restoreLogs = quietAppLogs();
  const database = await createTestDatabase();
  const redis = options.redis ? await startPrivateRedis() : null;
  const apps: Services[] = [];
  return {
    database,
    redis,
    async startApp(databaseUrl = database.url) {
      const env = faultEnv({ databaseUrl, redisUrl: redis?.url, keyPrefix: options.keyPrefix });
      const app = await createServices(parseEnv(env));
      apps.push(app);
      return app;
    },
    async stop() {
      await Promise.all(apps.map((app) => app.stop()));
      await redis?.stop();
      await database.drop();
      restoreLogs();
    },
  };
}

/**
 * Faults make the app log what it should (failed writes, vouchers to issue later) by the
 * hundred; the tests assert the outcomes instead. Returns the undo.
 */
function quietAppLogs(): () => void {
  const level = log.level;
  log.level = "silent";
  return () => {
    log.level = level;
  };
}

export interface Attempt {
  userId: string;
  key: string;
  result?: ClaimResult;
  error?: unknown;
}

/** One idempotency key per shopper and wave, as one click of each. */
export const attemptsOf = (userIds: string[], wave: string) =>
  userIds.map((userId) => ({ userId, key: `${wave}-${userId}` }));

/**
 * Runs claims through the ClaimService with at most `concurrency` in flight; every answer
 * and every error is kept. Each shopper has an address of their own (the per-address limit
 * is not under test here). `onAnswer` sees each attempt as it settles. With
 * `retryUnavailableForMs`, a shopper told UNAVAILABLE tries again with the same key after
 * the delay given (at most 200 ms), as the client does, until that time is spent.
 */
export async function claimWave(
  claims: ClaimService,
  dealId: string,
  attempts: { userId: string; key: string }[],
  concurrency: number,
  options: { onAnswer?: (attempt: Attempt) => void; retryUnavailableForMs?: number } = {},
): Promise<Attempt[]> {
  const answers: Attempt[] = [];
  let next = 0;
  const claimOnce = async (index: number): Promise<Attempt> => {
    const { userId, key } = attempts[index] as { userId: string; key: string };
    try {
      const result = await claims.claim(userId, { dealId, idempotencyKey: key }, addressOf(index));
      return { userId, key, result };
    } catch (error) {
      return { userId, key, error };
    }
  };
  const worker = async () => {
    while (next < attempts.length) {
      const index = next++;
      const giveUpAt = Date.now() + (options.retryUnavailableForMs ?? 0);
      let attempt = await claimOnce(index);
      while (DomainError.is(attempt.error) && attempt.error.code === "UNAVAILABLE") {
        if (Date.now() >= giveUpAt) break;
        const hint = Number(attempt.error.details.retryAfterMs ?? 50);
        await new Promise((resolve) => setTimeout(resolve, Math.min(hint, 200)));
        attempt = await claimOnce(index);
      }
      answers.push(attempt);
      options.onAnswer?.(attempt);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, attempts.length) }, worker));
  return answers;
}

const addressOf = (index: number) =>
  `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;

export const wins = (attempts: Attempt[]) =>
  attempts.flatMap((a) =>
    a.result?.outcome === "WON" ? [{ ...a, claimId: a.result.claimId }] : [],
  );

/** Errors that are not the typed "try again" every fault should produce. */
export const untypedErrors = (attempts: Attempt[]) =>
  attempts
    .filter((a) => a.error !== undefined)
    .filter((a) => !(DomainError.is(a.error) && a.error.code === "UNAVAILABLE"))
    .map((a) => String(a.error));

export const unavailable = (attempts: Attempt[]) =>
  attempts.filter((a) => DomainError.is(a.error) && a.error.code === "UNAVAILABLE");

/** Polls `condition` until it holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until `db` answers again after an outage: its pool may still hold a connection
 * attempt begun while the server was away, which fails once more before a fresh one works.
 */
export async function waitForDatabase(db: Db): Promise<void> {
  await waitFor("the database to answer again", () =>
    db.execute(sql`SELECT 1`).then(
      () => true,
      () => false,
    ),
  );
}

/** Claim ids of a deal's active claims in Postgres. */
export async function activeClaimIds(db: Db, dealId: string): Promise<Set<string>> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(
      sql`SELECT id FROM claims WHERE deal_id = ${dealId} AND status IN ('reserved', 'confirmed')`,
    ),
  );
  return new Set(rows.map((row) => row.id));
}

/** Units the Redis gate would still grant, and its pending reservations. */
export async function gateCount(redis: RedisClient, keyPrefix: string, dealId: string) {
  const keys = gateKeys(keyPrefix, dealId);
  const remaining = await redis.hget(keys.meta, "remaining");
  return {
    remaining: remaining === null ? null : Number(remaining),
    pending: await redis.zcard(keys.pending),
  };
}

/**
 * Waits until no statement runs in `databaseName` but this one: a client that died or was
 * cut off may have left a statement that Postgres still finishes (and commits). The real
 * reconciler's grace period covers that; a test that shortens the grace waits here instead.
 */
export async function waitForStatementsToSettle(db: Db, databaseName: string): Promise<void> {
  await waitFor(`the statements of ${databaseName} to finish`, async () => {
    const [row] = rowsOf<{ n: number }>(
      await db.execute(sql`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = ${databaseName} AND state <> 'idle' AND pid <> pg_backend_pid()`),
    );
    return row?.n === 0;
  });
}

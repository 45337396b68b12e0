import "server-only";
import type { Db } from "@/db/client";
import { MemoryUsedAnswers, RedisUsedAnswers, type UsedAnswers } from "./bots/challenges";
import type { ClaimEngine } from "./claims/claim-engine";
import { EmbeddedClaimEngine } from "./claims/embedded-claim-engine";
import { DEAL_ROW_GATE, type GateReadout } from "./claims/gate-status";
import { warmUpcomingGates } from "./claims/gate-warmup";
import { type ReconcileReport, reconcileGates } from "./claims/reconciler";
import { RedisClaimEngine } from "./claims/redis-claim-engine";
import { RedisGateLoader } from "./claims/redis-gate-loader";
import { RedisGateReadout } from "./claims/redis-gate-readout";
import type { VoucherDrafts } from "./claims/winner-writes";
import { LocalStockTransport, RedisStockTransport, type StockTransport } from "./deals/stock-feed";
import type { Env } from "./env";
import {
  LocalSaleStatsStore,
  RedisSaleStatsStore,
  type SaleStatsStore,
} from "./monitor/sale-stats-store";
import { MemoryRateLimiter, type RateLimiter, RedisRateLimiter } from "./rate-limit/rate-limiter";
import { connectConfiguredRedis, type RedisClient } from "./redis/client";

/**
 * Where the two backends part ways, and the only place that asks which one runs. With Redis
 * (REDIS_URL or REDIS_CLUSTER_NODES) the gate, the limits, the stock transport and the sale
 * counts are shared by every instance; embedded, they live in Postgres and in this process,
 * which is then the only one. Postgres is the truth on both.
 */
export interface Platform {
  readonly name: "redis" | "embedded";
  /** For the parts that take Redis as an option (the shared cache, readiness); null embedded. */
  readonly redis: RedisClient | null;
  readonly engine: ClaimEngine;
  /** The gate's counts beside Postgres's, and its rebuild (GateStatusService). */
  readonly gate: GateReadout;
  /** Redis's gate loader (tests and benches drive it); null where the deal row is the gate. */
  readonly gateLoader: RedisGateLoader | null;
  readonly limiter: RateLimiter;
  readonly stockTransport: StockTransport;
  readonly saleStats: SaleStatsStore;
  /** The proof-of-work answers already spent (server/bots/challenges.ts). */
  readonly usedAnswers: UsedAnswers;
  /** Loads the gates of sales about to open; how many it looked at. */
  warmGates(now: Date): Promise<number>;
  /** Settles what a crash left at the gate; null where one transaction leaves nothing. */
  reconcile(): Promise<ReconcileReport | null>;
  /** Lets go of its connections. */
  close(): void;
}

type PlatformEnv = Pick<
  Env,
  | "REDIS_URL"
  | "REDIS_CLUSTER_NODES"
  | "REDIS_KEY_PREFIX"
  | "PRICED_RESERVATION_MS"
  | "CLAIM_PENDING_GRACE_MS"
>;

export async function openPlatform(
  env: PlatformEnv,
  db: Db,
  vouchers?: VoucherDrafts,
): Promise<Platform> {
  const redis = await connectConfiguredRedis(env);
  return redis ? redisPlatform(env, db, redis, vouchers) : embeddedPlatform(env, db);
}

function redisPlatform(
  env: PlatformEnv,
  db: Db,
  redis: RedisClient,
  vouchers: VoucherDrafts | undefined,
): Platform {
  const keyPrefix = env.REDIS_KEY_PREFIX;
  const gateLoader = new RedisGateLoader(redis, db, keyPrefix);
  const engine = new RedisClaimEngine({
    redis,
    db,
    loader: gateLoader,
    keyPrefix,
    reservationMs: env.PRICED_RESERVATION_MS,
    vouchers,
  });
  return {
    name: "redis",
    redis,
    engine,
    gate: new RedisGateReadout(redis, keyPrefix, gateLoader),
    gateLoader,
    limiter: new RedisRateLimiter(redis, keyPrefix),
    stockTransport: new RedisStockTransport(redis, keyPrefix),
    saleStats: new RedisSaleStatsStore(redis, keyPrefix),
    usedAnswers: new RedisUsedAnswers(redis, keyPrefix),
    warmGates: (now) => warmUpcomingGates(db, engine, now),
    reconcile: () => reconcileGates({ redis, db, keyPrefix, graceMs: env.CLAIM_PENDING_GRACE_MS }),
    close: () => redis.disconnect(),
  };
}

function embeddedPlatform(env: PlatformEnv, db: Db): Platform {
  return {
    name: "embedded",
    redis: null,
    engine: new EmbeddedClaimEngine({ db, reservationMs: env.PRICED_RESERVATION_MS }),
    gate: DEAL_ROW_GATE,
    gateLoader: null,
    limiter: new MemoryRateLimiter(),
    stockTransport: new LocalStockTransport(),
    saleStats: new LocalSaleStatsStore(),
    usedAnswers: new MemoryUsedAnswers(),
    // The deal row is the gate: nothing to load, nothing a crash can leave half done.
    warmGates: async () => 0,
    reconcile: async () => null,
    close: () => {},
  };
}

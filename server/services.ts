import "server-only";
import { createHmac } from "node:crypto";
import path from "node:path";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { placeDemoSales } from "@/db/demo-sales";
import { DEMO_ACCOUNTS, seedDemo } from "@/db/seed";
import { resolveSecret } from "./app-secrets";
import { AuditLogReader } from "./audit/audit-log";
import { AuthService } from "./auth/auth-service";
import { demoAccountsIn, demoAccountsWarning, demoSeedWanted } from "./auth/demo-accounts";
import { SessionCodec } from "./auth/session";
import { BotCheck } from "./bots/bot-check";
import { Challenges, MemoryUsedAnswers, RedisUsedAnswers } from "./bots/challenges";
import { ReadThroughCache } from "./cache/read-through-cache";
import type { ClaimEngine } from "./claims/claim-engine";
import { ClaimService } from "./claims/claim-service";
import { EmbeddedClaimEngine } from "./claims/embedded-claim-engine";
import { GateStatusService } from "./claims/gate-status";
import { warmUpcomingGates } from "./claims/gate-warmup";
import { reconcileGates } from "./claims/reconciler";
import { RedisClaimEngine } from "./claims/redis-claim-engine";
import { RedisGateLoader } from "./claims/redis-gate-loader";
import { expireReservations } from "./claims/reservation-expiry";
import { DealDiscovery } from "./deals/deal-discovery";
import { DealManagement } from "./deals/deal-management";
import { DealService } from "./deals/deal-service";
import { ReadReplica } from "./deals/read-replica";
import { StockBroadcasts } from "./deals/stock-broadcast";
import { LocalStockTransport, RedisStockTransport, StockFeed } from "./deals/stock-feed";
import { DeviceService } from "./devices/device-service";
import { botChallengeThreshold, describeMode, type Env, parseEnv } from "./env";
import { ReadinessCheck } from "./health/readiness";
import { log } from "./log";
import { MerchantDirectory } from "./merchants/merchant-directory";
import { StaffInvites } from "./merchants/staff-invites";
import { SaleMonitor } from "./monitor/sale-monitor";
import { SaleStats } from "./monitor/sale-stats";
import { Metrics } from "./observability/metrics";
import { describeMetricsAccess, metricsAccess } from "./observability/metrics-endpoint";
import { measureOversell, pingRedis } from "./observability/oversell-detector";
import { CheckoutService } from "./payments/checkout-service";
import type { PaymentProvider } from "./payments/payment-provider";
import { createPaymentProvider } from "./payments/providers/registry";
import { MemoryRateLimiter, RedisRateLimiter } from "./rate-limit/rate-limiter";
import { connectConfiguredRedis, type RedisClient } from "./redis/client";
import { StreamSlots } from "./streams/stream-slots";
import { KeyEncryption } from "./vouchers/key-encryption";
import { RedemptionService } from "./vouchers/redemption-service";
import { RedemptionSync } from "./vouchers/redemption-sync";
import { SigningKeyStore } from "./vouchers/signing-keys";
import { TrustFeeds } from "./vouchers/trust-feeds";
import { VoucherIssuer } from "./vouchers/voucher-issuer";
import { VoucherService } from "./vouchers/voucher-service";

export interface Services {
  env: Env;
  database: DatabaseHandle;
  redis: RedisClient | null;
  engine: ClaimEngine;
  claims: ClaimService;
  auth: AuthService;
  deals: DealService;
  discovery: DealDiscovery;
  /** Where discovery reads go: the read replica while it keeps up, else the primary. */
  reads: ReadReplica;
  dealCache: ReadThroughCache;
  stock: StockFeed;
  /** Live-stock streams open on this process, one broadcast per deal (server/http/stock-route). */
  stockBroadcasts: StockBroadcasts;
  /** Places for long-lived streams on this process, per address and per account. */
  streams: StreamSlots;
  /** The proof of work asked of clients claiming faster than people do. */
  bots: BotCheck;
  gates: GateStatusService;
  sessions: SessionCodec;
  signingKeys: SigningKeyStore;
  vouchers: VoucherService;
  trustFeeds: TrustFeeds;
  redemptions: RedemptionService;
  redemptionSync: RedemptionSync;
  devices: DeviceService;
  dealManagement: DealManagement;
  merchants: MerchantDirectory;
  staffInvites: StaffInvites;
  audit: AuditLogReader;
  monitor: SaleMonitor;
  checkout: CheckoutService;
  /** The provider PAYMENT_PROVIDER names (server/payments/providers/registry.ts). */
  paymentProvider: PaymentProvider;
  metrics: Metrics;
  /** One pass of the durable background work (also run on a timer when `background`). */
  sweep(): Promise<{
    expired: number;
    paymentsSettled: number;
    refundsPaid: number;
    gatesWarmed: number;
  }>;
  gateLoader: RedisGateLoader | null;
  demoSeeded: boolean;
  /** What `/readyz` answers (server/health/readiness.ts). */
  readiness: ReadinessCheck;
  /**
   * On the way down, after the last request: stops the background work, waits for a pass in
   * progress, and settles every winner still being written (ClaimEngine.settle).
   */
  settle(): Promise<void>;
  sessionSecretSource: "env" | "database" | "generated";
  voucherKeySecretSource: "env" | "database" | "generated";
  stop(): Promise<void>;
}

/** Wires the app from validated configuration. Tests call it with their own databases. */
export async function createServices(
  env: Env,
  options: { background?: boolean; clock?: () => Date } = {},
): Promise<Services> {
  const database = await openDatabase({
    url: env.DATABASE_URL,
    dataDir: path.resolve(env.DATA_DIR, "pglite"),
  });
  const { db } = database;
  const redis = await connectConfiguredRedis(env);
  const clock = options.clock ?? (() => new Date());
  const metrics = new Metrics({ engine: redis ? "redis" : "embedded" });

  const gateLoader = redis ? new RedisGateLoader(redis, db, env.REDIS_KEY_PREFIX) : null;
  const engine: ClaimEngine =
    redis && gateLoader
      ? new RedisClaimEngine({
          redis,
          db,
          loader: gateLoader,
          keyPrefix: env.REDIS_KEY_PREFIX,
          reservationMs: env.PRICED_RESERVATION_MS,
        })
      : new EmbeddedClaimEngine({ db, reservationMs: env.PRICED_RESERVATION_MS });

  // What start-up creates when it is missing. Processes starting together (a claim server's
  // workers) take turns, so the demo city is seeded once and each finds the others' work.
  const { secret, keySecret, signingKeys, subjectSecret, demoSeeded } = await database.oneAtATime(
    async () => {
      const secret = await resolveSecret(db, "session", env.SESSION_SECRET);
      const keySecret = await resolveSecret(db, "voucher-keys", env.VOUCHER_KEY_SECRET);
      const signingKeys = new SigningKeyStore(db, new KeyEncryption(keySecret.value), {
        leadMs: env.VOUCHER_KEY_LEAD_MS,
        clockSkewSeconds: env.VOUCHER_CLOCK_SKEW_SECONDS,
        clock,
      });
      await signingKeys.ensureActiveKey();
      const subjectSecret = await resolveSecret(db, "voucher-subject", undefined);
      const demoSeeded = demoSeedWanted(env) ? await seedDemo(db, clock()) : false;
      // A demo started again: its ended sales are placed relative to now, gates told.
      const demoMoved = demoSeedWanted(env) && !demoSeeded ? await placeDemoSales(db, clock()) : [];
      for (const dealId of demoMoved) await engine.dealChanged(dealId);
      return { secret, keySecret, signingKeys, subjectSecret, demoSeeded };
    },
  );
  const issuer = new VoucherIssuer(db, signingKeys, subjectSecret.value, clock);
  const limiter = redis
    ? new RedisRateLimiter(redis, env.REDIS_KEY_PREFIX)
    : new MemoryRateLimiter();
  const dealCache = new ReadThroughCache({
    name: "deals",
    redis,
    keyPrefix: env.REDIS_KEY_PREFIX,
    // Short: lists may show stock a moment old, and one query per cell per 2 s holds a burst.
    ttlMs: 2_000,
    localTtlMs: 500,
    rebuildLockMs: 2_000,
    onLookup: (lookup, cache) => metrics.observeCacheLookup(lookup, cache),
  });
  const gates = new GateStatusService(db, redis, env.REDIS_KEY_PREFIX, gateLoader);
  const stock = new StockFeed(
    (dealId) => gates.stock(dealId),
    redis ? new RedisStockTransport(redis, env.REDIS_KEY_PREFIX) : new LocalStockTransport(),
  );
  const stockBroadcasts = new StockBroadcasts(stock);
  const onStockChange = (dealId: string) => stock.changed(dealId);
  const reads = await ReadReplica.open(db, env.DATABASE_READ_URL, {
    maxLagMs: env.DATABASE_READ_MAX_LAG_MS,
    background: options.background,
  });
  const discovery = new DealDiscovery(reads, dealCache, clock);
  metrics.watch({
    oversoldUnits: () => measureOversell(db, redis, env.REDIS_KEY_PREFIX, clock()),
    redisPing: redis ? () => pingRedis(redis) : undefined,
    readReplica: env.DATABASE_READ_URL ? () => reads.current : undefined,
  });
  const saleStats = new SaleStats(redis, env.REDIS_KEY_PREFIX);
  const bots = new BotCheck(
    botChallengeThreshold(env),
    new Challenges(
      // Derived from the session secret, which every instance shares.
      createHmac("sha256", secret.value).update("proof-of-work challenges").digest(),
      env.BOT_CHALLENGE_COST,
      redis ? new RedisUsedAnswers(redis, env.REDIS_KEY_PREFIX) : new MemoryUsedAnswers(),
    ),
  );
  const claimService: ClaimService = new ClaimService(engine, db, issuer, {
    clock,
    onStockChange,
    bots,
    // `checkout` is made below, from this service; a cancellation happens after both exist.
    onCancelled: (claimIds): Promise<number> => checkout.refundCancelledClaims(claimIds),
    observe: (attempt) => {
      metrics.observeClaim(attempt);
      saleStats.record(attempt);
    },
  });
  const paymentProvider = createPaymentProvider(env);
  const checkout: CheckoutService = new CheckoutService(db, paymentProvider, claimService, issuer, {
    timeoutMs: env.PAYMENT_TIMEOUT_MS,
    clock,
    observe: (event) => metrics.observeCheckout(event),
  });

  const expire = async () => {
    const expired = await expireReservations(db, engine, clock(), onStockChange);
    metrics.observeReservationsExpired(expired);
    return expired;
  };
  const sweep = async () => ({
    expired: await expire(),
    paymentsSettled: await checkout.settleUnknownPayments(2 * env.PAYMENT_TIMEOUT_MS),
    refundsPaid: await checkout.refundOwed(),
    // The embedded gate has nothing to load.
    gatesWarmed: gateLoader ? await warmUpcomingGates(db, engine, clock()) : 0,
  });

  let timer: NodeJS.Timeout | undefined;
  /** Background passes in progress (each part of one catches its own failure). */
  const passes = new Set<Promise<unknown>>();
  const running = (parts: Promise<unknown>[]) => {
    const pass = Promise.all(parts);
    passes.add(pass);
    void pass.finally(() => passes.delete(pass));
  };
  if (options.background) {
    timer = setInterval(() => {
      const swept = sweep()
        .then((done) => {
          if (done.expired > 0 || done.paymentsSettled > 0 || done.refundsPaid > 0)
            log.info({ done }, "background sweep");
        })
        .catch((error) => log.error({ err: error }, "background sweep failed"));
      const rotated = signingKeys
        .advanceRotation()
        .then((rotated) => rotated && log.info("voucher signing key rotated"))
        .catch((error) => log.error({ err: error }, "signing key rotation failed"));
      if (!redis) return running([swept, rotated]);
      const reconciled = reconcileGates({
        redis,
        db,
        keyPrefix: env.REDIS_KEY_PREFIX,
        graceMs: env.CLAIM_PENDING_GRACE_MS,
      })
        .then((report) => {
          if (report.released > 0 || report.confirmed > 0)
            log.warn({ report }, "reconciled pending claims");
        })
        .catch((error) => log.error({ err: error }, "reconciler failed"));
      running([swept, rotated, reconciled]);
    }, env.RECONCILE_INTERVAL_MS);
    timer.unref();
  }

  return {
    env,
    database,
    redis,
    engine,
    claims: claimService,
    checkout,
    paymentProvider,
    metrics,
    sweep,
    auth: new AuthService(db, limiter),
    deals: new DealService(db, clock, reads),
    reads,
    discovery,
    dealCache,
    gates,
    stock,
    stockBroadcasts,
    bots,
    streams: new StreamSlots({
      perAddress: env.STREAMS_PER_ADDRESS,
      perAccount: env.STREAMS_PER_ACCOUNT,
    }),
    sessions: new SessionCodec(secret.value),
    signingKeys,
    vouchers: new VoucherService(db, issuer, clock),
    trustFeeds: new TrustFeeds(db, env.VOUCHER_CLOCK_SKEW_SECONDS, clock),
    redemptions: new RedemptionService(
      db,
      signingKeys,
      env.VOUCHER_CLOCK_SKEW_SECONDS,
      clock,
      (result) => metrics.observeOnlineRedemption(result),
    ),
    redemptionSync: new RedemptionSync(
      db,
      signingKeys,
      env.VOUCHER_CLOCK_SKEW_SECONDS,
      clock,
      (outcome) => metrics.observeRedemptionSync(outcome),
    ),
    devices: new DeviceService(db, clock),
    dealManagement: new DealManagement(
      db,
      {
        gateChanged: (dealId) => engine.dealChanged(dealId),
        gateRebuilt: async (dealId) => {
          await gates.rebuild(dealId);
        },
        listingsChanged: async (dealId) => {
          await dealCache.invalidateAll();
          stock.changed(dealId);
        },
        claimsCancelled: async (claimIds) => {
          await checkout.refundCancelledClaims(claimIds);
        },
      },
      clock,
    ),
    merchants: new MerchantDirectory(db, clock),
    staffInvites: new StaffInvites(db, clock),
    audit: new AuditLogReader(db),
    monitor: new SaleMonitor(db, saleStats, gates, clock),
    gateLoader,
    demoSeeded,
    readiness: new ReadinessCheck({ db, redis, signingKeys }),
    async settle() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.all([...passes]);
      await engine.settle();
    },
    sessionSecretSource: secret.source,
    voucherKeySecretSource: keySecret.source,
    async stop() {
      if (timer) clearInterval(timer);
      saleStats.stop();
      stockBroadcasts.close();
      stock.close();
      redis?.disconnect();
      await reads.close();
      await database.close();
    },
  };
}

const GLOBAL_KEY = Symbol.for("dealdrop.services");
type GlobalWithServices = typeof globalThis & { [GLOBAL_KEY]?: Promise<Services> };

/**
 * The process-wide services. Next.js compiles instrumentation and each route into separate
 * module graphs, so the instance lives on globalThis rather than in a module variable.
 */
export function getServices(): Promise<Services> {
  const store = globalThis as GlobalWithServices;
  store[GLOBAL_KEY] ??= (async () => {
    const env = parseEnv();
    const services = await createServices(env, { background: true });
    await announceStart(services);
    return services;
  })();
  return store[GLOBAL_KEY];
}

/** The first log lines: the mode, the URLs, the demo accounts, and what is not set that should be. */
export async function announceStart(services: Services) {
  const { env } = services;
  const url = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  log.info(
    `Dealdrop running in ${env.DATABASE_URL || services.redis ? "server" : "embedded"} mode: ${describeMode(env)}`,
  );
  log.info(`Storefront: ${url}/   Sign in: ${url}/sign-in`);
  const demoLeft = env.DATABASE_URL ? await demoAccountsIn(services.database.db) : [];
  if (demoLeft.length > 0) log.warn(demoAccountsWarning(demoLeft));
  else if (env.DATABASE_URL && env.DEMO_SEED === "auto") {
    log.info(
      "No demo seed with DATABASE_URL (DEMO_SEED=on asks for one). First admin: npm run admin:create.",
    );
  }
  if (services.demoSeeded || (!env.DATABASE_URL && demoSeedWanted(env))) {
    const demo = DEMO_ACCOUNTS;
    log.info(
      `${services.demoSeeded ? "Demo data seeded" : "Demo accounts"} (password for each: ${demo.password}). ` +
        `Admin: ${demo.admin}. Merchant staff: ${demo.merchantStaff.join(", ")}. ` +
        `Shoppers: ${demo.shoppers.join(", ")}.`,
    );
  }
  if (services.sessionSecretSource !== "env") {
    log.warn("SESSION_SECRET is not set: using a secret generated and stored in the database.");
  }
  if (metricsAccess(env) === "refused") log.warn(describeMetricsAccess(env));
  else log.info(describeMetricsAccess(env));
  if (services.voucherKeySecretSource !== "env") {
    log.warn(
      "VOUCHER_KEY_SECRET is not set: voucher signing keys are sealed with a secret stored in the " +
        "same database. Fine for a demo; set it for any real deployment.",
    );
  }
}

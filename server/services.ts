import "server-only";
import { createHmac } from "node:crypto";
import path from "node:path";
import type { Logger } from "drizzle-orm/logger";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { placeDemoSales } from "@/db/demo-sales";
import { seedDemo } from "@/db/seed";
import { resolveSecret } from "./app-secrets";
import { AuditLogReader } from "./audit/audit-log";
import { AccountAdmin } from "./auth/account-admin";
import { AccountStandings, readStanding } from "./auth/account-standing";
import { AuthService } from "./auth/auth-service";
import { demoSeedWanted } from "./auth/demo-accounts";
import { hashPassword, passwords } from "./auth/password";
import { SESSION_TTL_SECONDS, SessionCodec } from "./auth/session";
import { Sessions } from "./auth/sessions";
import { StandingFollower } from "./auth/standing-follower";
import { type SweepReport, startBackgroundJobs, sweeper } from "./background-jobs";
import { BotCheck } from "./bots/bot-check";
import { Challenges } from "./bots/challenges";
import { ReadThroughCache } from "./cache/read-through-cache";
import type { ClaimEngine } from "./claims/claim-engine";
import { ClaimService } from "./claims/claim-service";
import { GateStatusService } from "./claims/gate-status";
import type { RedisGateLoader } from "./claims/redis-gate-loader";
import { DealDiscovery } from "./deals/deal-discovery";
import { DealManagement } from "./deals/deal-management";
import { DealService } from "./deals/deal-service";
import { ReadReplica } from "./deals/read-replica";
import { StockBroadcasts } from "./deals/stock-broadcast";
import { StockFeed } from "./deals/stock-feed";
import { DeviceService } from "./devices/device-service";
import { botChallengeThreshold, type Env, parseEnv } from "./env";
import { ReadinessCheck } from "./health/readiness";
import { MerchantDirectory } from "./merchants/merchant-directory";
import { StaffInvites } from "./merchants/staff-invites";
import { SaleMonitor } from "./monitor/sale-monitor";
import { SaleStats } from "./monitor/sale-stats";
import { Metrics } from "./observability/metrics";
import { measureOversell, pingRedis } from "./observability/oversell-detector";
import { CheckoutService } from "./payments/checkout-service";
import type { PaymentProvider } from "./payments/payment-provider";
import { createPaymentProvider } from "./payments/providers/registry";
import { openPlatform, type Platform } from "./platform";
import type { RedisClient } from "./redis/client";
import { announceStart } from "./start-banner";
import { StreamSlots } from "./streams/stream-slots";
import { KeyEncryption } from "./vouchers/key-encryption";
import { RedemptionService } from "./vouchers/redemption-service";
import { RedemptionSync } from "./vouchers/redemption-sync";
import { SigningKeyStore } from "./vouchers/signing-keys";
import { TrustFeeds } from "./vouchers/trust-feeds";
import { VoucherIssuer } from "./vouchers/voucher-issuer";
import { VoucherService } from "./vouchers/voucher-service";

/** What request handlers, routes and pages read. Wiring only: each member is made here. */
export interface Services {
  env: Env;
  claims: ClaimService;
  auth: AuthService;
  deals: DealService;
  discovery: DealDiscovery;
  /** Where discovery reads go: the read replica while it keeps up, else the primary. */
  reads: ReadReplica;
  /** Live-stock streams open on this process, one broadcast per deal (server/http/stock-route). */
  stockBroadcasts: StockBroadcasts;
  /** Places for long-lived streams on this process, per address and per account. */
  streams: StreamSlots;
  /** The proof of work asked of clients claiming faster than people do. */
  bots: BotCheck;
  gates: GateStatusService;
  sessions: Sessions;
  /** Each account's standing as session checks read it (cached; Postgres behind). */
  standings: AccountStandings;
  /** Admins' view of accounts: search, deactivate, reactivate, change a role. */
  accounts: AccountAdmin;
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
  /** What `/readyz` answers (server/health/readiness.ts). */
  readiness: ReadinessCheck;
  /**
   * On the way down, after the last request: stops the background work, waits for a pass in
   * progress, and settles every winner still being written (ClaimEngine.settle).
   */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What wiring made that no request reads: the start banner reads it, and tests reach it
 * through their own helper (testing/wired-services.ts).
 */
export interface ServiceInternals {
  database: DatabaseHandle;
  platform: Platform;
  redis: RedisClient | null;
  engine: ClaimEngine;
  gateLoader: RedisGateLoader | null;
  dealCache: ReadThroughCache;
  stock: StockFeed;
  /** One pass of the durable background work (also run on a timer when `background`). */
  sweep(): Promise<SweepReport>;
  demoSeeded: boolean;
  sessionSecretSource: "env" | "database" | "generated";
  voucherKeySecretSource: "env" | "database" | "generated";
}

export interface ServiceOptions {
  /** Runs the background jobs on a timer (server/background-jobs.ts). */
  background?: boolean;
  clock?: () => Date;
  /** Sees every SQL statement; test harnesses pass their query counter. */
  queryLogger?: Logger;
}

/** Wires the app from validated configuration. Tests call it with their own databases. */
export async function wireServices(
  env: Env,
  options: ServiceOptions = {},
): Promise<{ services: Services; internals: ServiceInternals }> {
  const database = await openDatabase({
    url: env.DATABASE_URL,
    dataDir: path.resolve(env.DATA_DIR, "pglite"),
    logger: options.queryLogger,
  });
  const { db } = database;
  const clock = options.clock ?? (() => new Date());

  // What start-up creates when it is missing. Processes starting together (a claim server's
  // workers) take turns, so the demo city is seeded once and each finds the others' work.
  const { secret, keySecret, signingKeys, subjectSecret, demoSeeded, demoMoved } =
    await database.oneAtATime(async () => {
      const secret = await resolveSecret(db, "session", env.SESSION_SECRET);
      const keySecret = await resolveSecret(db, "voucher-keys", env.VOUCHER_KEY_SECRET);
      const signingKeys = new SigningKeyStore(db, new KeyEncryption(keySecret.value), {
        leadMs: env.VOUCHER_KEY_LEAD_MS,
        clockSkewSeconds: env.VOUCHER_CLOCK_SKEW_SECONDS,
        clock,
      });
      await signingKeys.ensureActiveKey();
      const subjectSecret = await resolveSecret(db, "voucher-subject", undefined);
      const demoSeeded = demoSeedWanted(env) ? await seedDemo(db, hashPassword, clock()) : false;
      // A demo started again: its ended sales are placed relative to now (gates told below).
      const demoMoved = demoSeedWanted(env) && !demoSeeded ? await placeDemoSales(db, clock()) : [];
      return { secret, keySecret, signingKeys, subjectSecret, demoSeeded, demoMoved };
    });
  const issuer = new VoucherIssuer(db, signingKeys, subjectSecret.value, clock);
  // Free deals' vouchers are signed ahead and committed with their claims (see WinnerWrites).
  const platform = await openPlatform(env, db, issuer);
  const { engine, redis } = platform;
  for (const dealId of demoMoved) await engine.dealChanged(dealId);
  const metrics = new Metrics({ engine: platform.name });
  const standings = new AccountStandings(
    (userId) => readStanding(db, userId),
    redis,
    env.REDIS_KEY_PREFIX,
  );
  const sessions = new Sessions(new SessionCodec(secret.value), standings, db, clock);
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
  const gates = new GateStatusService(db, platform.gate);
  const stock = new StockFeed((dealId) => gates.stock(dealId), platform.stockTransport);
  const stockBroadcasts = new StockBroadcasts(stock);
  const onStockChange = (dealId: string) => stock.changed(dealId);
  const reads = await ReadReplica.open(db, env.DATABASE_READ_URL, {
    maxLagMs: env.DATABASE_READ_MAX_LAG_MS,
    background: options.background,
    logger: options.queryLogger,
  });
  const discovery = new DealDiscovery(reads, dealCache, clock);
  metrics.watch({
    oversoldUnits: () => measureOversell(db, platform.gate, clock()),
    redisPing: redis ? () => pingRedis(redis) : undefined,
    readReplica: env.DATABASE_READ_URL ? () => reads.current : undefined,
  });
  const saleStats = new SaleStats(platform.saleStats);
  const bots = new BotCheck(
    botChallengeThreshold(env),
    new Challenges(
      // Derived from the session secret, which every instance shares.
      createHmac("sha256", secret.value).update("proof-of-work challenges").digest(),
      env.BOT_CHALLENGE_COST,
      platform.usedAnswers,
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
  const sweepOnce = sweeper({
    db,
    platform,
    checkout,
    clock,
    paymentTimeoutMs: env.PAYMENT_TIMEOUT_MS,
    onStockChange,
    standings: new StandingFollower(db, standings, {
      windowMs: 2 * 60_000,
      firstLookbackMs: SESSION_TTL_SECONDS * 1000,
    }),
  });
  const sweep = async () => {
    const report = await sweepOnce();
    metrics.observeReservationsExpired(report.expired);
    return report;
  };
  const jobs = options.background
    ? startBackgroundJobs({ sweep, signingKeys, platform, intervalMs: env.RECONCILE_INTERVAL_MS })
    : null;

  const services: Services = {
    env,
    claims: claimService,
    checkout,
    paymentProvider,
    metrics,
    auth: new AuthService(db, platform.limiter, passwords, sessions),
    accounts: new AccountAdmin(db, sessions, clock),
    standings,
    deals: new DealService(db, clock, reads),
    discovery,
    reads,
    gates,
    stockBroadcasts,
    bots,
    streams: new StreamSlots({
      perAddress: env.STREAMS_PER_ADDRESS,
      perAccount: env.STREAMS_PER_ACCOUNT,
    }),
    sessions,
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
    readiness: new ReadinessCheck({ db, redis, signingKeys }),
    async settle() {
      await jobs?.settle();
      await engine.settle();
    },
    async stop() {
      jobs?.halt();
      saleStats.stop();
      stockBroadcasts.close();
      stock.close();
      standings.close();
      platform.close();
      await reads.close();
      await database.close();
    },
  };
  const internals: ServiceInternals = {
    database,
    platform,
    redis,
    engine,
    gateLoader: platform.gateLoader,
    dealCache,
    stock,
    sweep,
    demoSeeded,
    sessionSecretSource: secret.source,
    voucherKeySecretSource: keySecret.source,
  };
  return { services, internals };
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
    const { services, internals } = await wireServices(env, { background: true });
    await announceStart({ ...internals, env });
    return services;
  })();
  return store[GLOBAL_KEY];
}

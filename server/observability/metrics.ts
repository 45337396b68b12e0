import "server-only";
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  Registry,
} from "prom-client";
import { ATTEMPT_OUTCOMES } from "@/lib/claims/claim-outcomes";
import type { CacheLookup } from "../cache/read-through-cache";
import type { ClaimAttempt } from "../claims/claim-observer";
import { log } from "../log";
import type { CheckoutEvent } from "../payments/checkout-service";
import type { RedeemResult } from "../vouchers/redemption-service";
import type { SyncOutcome } from "../vouchers/redemption-sync";

export type GateEngine = "redis" | "embedded";

const CACHE_LOOKUPS: readonly CacheLookup[] = ["local_hit", "shared_hit", "miss"];
const SYNC_RESULTS: readonly SyncOutcome["status"][] = ["recorded", "conflict", "rejected"];
const ONLINE_RESULTS = ["accepted", "rejected"] as const;
const CHARGE_OUTCOMES = ["approved", "declined", "unknown"] as const;
/** paid: confirmed; expired: its time ran out unpaid; released: declined or no answer in time. */
const RESERVATION_ENDINGS = ["paid", "expired", "released"] as const;

/** What the gauges read when scraped (see `watch`). */
export interface Watched {
  /** Units sold or grantable beyond the quantity (server/observability/oversell-detector.ts). */
  oversoldUnits(): Promise<number>;
  /** Seconds a Redis PING took, or null when it did not answer: absent in embedded mode. */
  redisPing?(): Promise<number | null>;
  /** Where discovery reads go and the replica's last measured lag: only with DATABASE_READ_URL. */
  readReplica?(): { serving: "replica" | "primary"; lagMs: number | null };
}

/**
 * The app's Prometheus metrics, in a registry of its own rather than prom-client's global
 * one, so several service instances in one process (tests) never share or clash. Every
 * known label value starts at 0, so a scrape shows each series before its first event and
 * `rate()` sees the first one.
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly engine: GateEngine;
  private readonly caches = new Set<string>();

  private readonly claimAttempts = this.counter(
    "dealdrop_claim_attempts_total",
    "Claim attempts by outcome (the gate's answer, or the refusal before it).",
    ["outcome"],
  );
  private readonly gateSeconds = new Histogram({
    name: "dealdrop_claim_gate_seconds",
    help: "Time the claim engine took to decide an attempt that reached it.",
    labelNames: ["engine"] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [this.registry],
  });
  private readonly claimSeconds = new Histogram({
    name: "dealdrop_claim_duration_seconds",
    help: "Whole claim attempts as the shopper waits: limits, gate, Postgres, voucher.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly redemptionSyncs = this.counter(
    "dealdrop_redemption_sync_total",
    "Offline redemptions synced by counter devices, by result.",
    ["result"],
  );
  private readonly onlineRedemptions = this.counter(
    "dealdrop_online_redemptions_total",
    "Online redemptions at the counter, by result.",
    ["result"],
  );
  private readonly cacheRequests = this.counter(
    "dealdrop_cache_requests_total",
    "Read-through cache lookups by where they were answered (miss: loaded from Postgres).",
    ["cache", "result"],
  );

  private readonly paymentCharges = this.counter(
    "dealdrop_payment_charges_total",
    "Charges asked of the payment provider, by its answer (unknown: none in time).",
    ["outcome"],
  );
  private readonly revenueCents = this.counter(
    "dealdrop_revenue_cents_total",
    "Money taken: the charge of each paid reservation as it is confirmed, in cents, by currency.",
    ["currency"],
  );
  private readonly reservationsEnded = this.counter(
    "dealdrop_reservations_ended_total",
    "Priced reservations ended, by reason (paid, expired unpaid, released after a failed charge).",
    ["reason"],
  );

  constructor(options: { engine: GateEngine }) {
    this.engine = options.engine;
    this.engineGateSeconds = this.gateSeconds.labels({ engine: this.engine });
    collectDefaultMetrics({ register: this.registry, prefix: "dealdrop_" });
    for (const outcome of ATTEMPT_OUTCOMES) this.claimAttempts.inc({ outcome }, 0);
    this.gateSeconds.zero({ engine: this.engine });
    for (const result of SYNC_RESULTS) this.redemptionSyncs.inc({ result }, 0);
    for (const result of ONLINE_RESULTS) this.onlineRedemptions.inc({ result }, 0);
    for (const outcome of CHARGE_OUTCOMES) this.paymentCharges.inc({ outcome }, 0);
    for (const reason of RESERVATION_ENDINGS) this.reservationsEnded.inc({ reason }, 0);
  }

  /**
   * Gauges measured when scraped, not on a timer: the oversell detector and Redis's health.
   * With several claim workers the primary merges them by max (min for up), never by sum.
   * A measurement that fails reads NaN, so a stale value is never shown as current.
   */
  watch(watched: Watched): void {
    const measured = async (what: string, measure: () => Promise<number>) => {
      try {
        return await measure();
      } catch (error) {
        log.warn({ err: error }, `metrics: ${what} could not be measured`);
        return Number.NaN;
      }
    };
    new Gauge({
      name: "dealdrop_oversold_units",
      help: "Units sold or grantable beyond their deal's quantity, Postgres against the gate (must be 0).",
      registers: [this.registry],
      aggregator: "max",
      async collect() {
        this.set(await measured("the oversell detector", () => watched.oversoldUnits()));
      },
    });
    const replica = watched.readReplica;
    if (replica) {
      new Gauge({
        name: "dealdrop_read_replica_serving",
        help: "1 while discovery reads go to the read replica, 0 while the primary takes them.",
        registers: [this.registry],
        aggregator: "min",
        collect() {
          this.set(replica().serving === "replica" ? 1 : 0);
        },
      });
      new Gauge({
        name: "dealdrop_read_replica_lag_seconds",
        help: "How far the read replica was behind the primary at its last check (NaN: no answer).",
        registers: [this.registry],
        aggregator: "max",
        collect() {
          const { lagMs } = replica();
          this.set(lagMs === null ? Number.NaN : lagMs / 1000);
        },
      });
    }
    const ping = watched.redisPing;
    if (!ping) return;
    // One PING per scrape for both gauges, which a scrape collects at the same time.
    let asked: { at: number; answer: Promise<number | null> } | undefined;
    const pingOnce = () => {
      if (!asked || performance.now() - asked.at > 250) {
        asked = { at: performance.now(), answer: ping().catch(() => null) };
      }
      return asked.answer;
    };
    new Gauge({
      name: "dealdrop_redis_up",
      help: "1 when Redis answered a PING within a second at this scrape, else 0.",
      registers: [this.registry],
      aggregator: "min",
      async collect() {
        this.set((await pingOnce()) === null ? 0 : 1);
      },
    });
    new Gauge({
      name: "dealdrop_redis_ping_seconds",
      help: "How long that PING took, as this process saw it (its event loop included).",
      registers: [this.registry],
      aggregator: "max",
      async collect() {
        this.set((await pingOnce()) ?? Number.NaN);
      },
    });
  }

  /** A checkout observer (CheckoutService's `observe`). */
  observeCheckout(event: CheckoutEvent): void {
    if (event.kind === "charge") this.paymentCharges.inc({ outcome: event.outcome });
    else if (event.kind === "released") this.reservationsEnded.inc({ reason: "released" });
    else {
      this.reservationsEnded.inc({ reason: "paid" });
      this.revenueCents.inc({ currency: event.currency }, event.amountCents);
    }
  }

  /** Reservations the expiry sweep ended unpaid. */
  observeReservationsExpired(count: number): void {
    if (count > 0) this.reservationsEnded.inc({ reason: "expired" }, count);
  }

  /** Each outcome's counter and the engine's histogram, bound once: no label hashing per claim. */
  private readonly attemptsByOutcome = new Map(
    ATTEMPT_OUTCOMES.map((outcome) => [outcome, this.claimAttempts.labels({ outcome })]),
  );
  private readonly engineGateSeconds: ReturnType<typeof this.gateSeconds.labels>;

  /** A claim observer (see `ClaimObserver`): cheap, and never throws. */
  observeClaim(attempt: ClaimAttempt): void {
    this.attemptsByOutcome.get(attempt.outcome)?.inc();
    this.claimSeconds.observe(attempt.durationMs / 1000);
    if (attempt.gateMs !== undefined) this.engineGateSeconds.observe(attempt.gateMs / 1000);
  }

  observeRedemptionSync(outcome: SyncOutcome): void {
    this.redemptionSyncs.inc({ result: outcome.status });
  }

  observeOnlineRedemption(result: RedeemResult): void {
    this.onlineRedemptions.inc({ result: result.accepted ? "accepted" : "rejected" });
  }

  observeCacheLookup(lookup: CacheLookup, cache: string): void {
    if (!this.caches.has(cache)) {
      this.caches.add(cache);
      for (const result of CACHE_LOOKUPS) this.cacheRequests.inc({ cache, result }, 0);
    }
    this.cacheRequests.inc({ cache, result: lookup });
  }

  /**
   * In a cluster worker (the claim server on several cores): lets the primary collect this
   * registry, so one scrape of any worker shows the whole server (see claim-workers.ts).
   */
  reportToClusterPrimary(): void {
    AggregatorRegistry.setRegistries(this.registry);
    // Constructing one in a worker is what installs its answer to the primary's requests.
    new AggregatorRegistry();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private counter<Label extends string>(name: string, help: string, labelNames: Label[]) {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

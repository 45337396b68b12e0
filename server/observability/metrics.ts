import "server-only";
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Histogram,
  Registry,
} from "prom-client";
import { ATTEMPT_OUTCOMES } from "@/lib/claims/claim-outcomes";
import type { CacheLookup } from "../cache/read-through-cache";
import type { ClaimAttempt } from "../claims/claim-observer";
import type { RedeemResult } from "../vouchers/redemption-service";
import type { SyncOutcome } from "../vouchers/redemption-sync";

export type GateEngine = "redis" | "embedded";

const CACHE_LOOKUPS: readonly CacheLookup[] = ["local_hit", "shared_hit", "miss"];
const SYNC_RESULTS: readonly SyncOutcome["status"][] = ["recorded", "conflict", "rejected"];
const ONLINE_RESULTS = ["accepted", "rejected"] as const;

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

  constructor(options: { engine: GateEngine }) {
    this.engine = options.engine;
    this.engineGateSeconds = this.gateSeconds.labels({ engine: this.engine });
    collectDefaultMetrics({ register: this.registry, prefix: "dealdrop_" });
    for (const outcome of ATTEMPT_OUTCOMES) this.claimAttempts.inc({ outcome }, 0);
    this.gateSeconds.zero({ engine: this.engine });
    for (const result of SYNC_RESULTS) this.redemptionSyncs.inc({ result }, 0);
    for (const result of ONLINE_RESULTS) this.onlineRedemptions.inc({ result }, 0);
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

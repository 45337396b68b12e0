import "server-only";
import { type AttemptOutcome, OUTCOMES } from "@/lib/claims/claim-outcomes";
import type { ClaimAttempt } from "../claims/claim-observer";
import { addInto, emptySecond, type SaleStatsStore, type SecondStats } from "./sale-stats-store";

/** Upper bounds (ms) of the latency buckets; a percentile reads as "at most this". */
export const LATENCY_BOUNDS_MS = [
  0.5,
  1,
  2,
  3,
  5,
  7.5,
  10,
  15,
  20,
  30,
  50,
  75,
  100,
  150,
  200,
  300,
  500,
  750,
  1_000,
  2_000,
  5_000,
  Number.POSITIVE_INFINITY,
];
const FLUSH_EVERY_MS = 500;
/** Deals remembered as real, so their shed or failed attempts are counted too. */
const KNOWN_DEALS = 10_000;

export interface SecondSeries {
  /** Epoch second. */
  t: number;
  attempts: Partial<Record<AttemptOutcome, number>>;
  total: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * Claim attempts per deal per second, by outcome, with a latency histogram: what the live
 * sale monitor draws. Recording is a few map updates in memory; every half second each
 * instance adds its counts to the platform's store (server/platform.ts): Redis, so a monitor
 * sees every instance's attempts, or this process, which is then the only one.
 */
export class SaleStats {
  private pending = new Map<string, Map<number, SecondStats>>();
  private readonly knownDeals = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: SaleStatsStore) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Counts an attempt on a deal seen to exist; attempts on others go to the metrics alone. */
  record(attempt: ClaimAttempt): void {
    if (!this.knownDeals.has(attempt.dealId)) {
      // Anyone may send attempts on made-up deal ids: counting those per deal would hold a key
      // in Redis for 15 minutes per id. Every other outcome proves the deal exists.
      if (OUTCOMES[attempt.outcome].beforeTheDeal) return;
      // Only real deals get here, so the set is as big as the deals with attempts; a full one
      // starts again, and each deal is back with its next decided attempt.
      if (this.knownDeals.size >= KNOWN_DEALS) this.knownDeals.clear();
      this.knownDeals.add(attempt.dealId);
    }
    const second = Math.floor(Date.now() / 1_000);
    let seconds = this.pending.get(attempt.dealId);
    if (!seconds) {
      seconds = new Map();
      this.pending.set(attempt.dealId, seconds);
    }
    let stats = seconds.get(second);
    if (!stats) {
      stats = emptySecond();
      seconds.set(second, stats);
    }
    stats.outcomes[attempt.outcome] = (stats.outcomes[attempt.outcome] ?? 0) + 1;
    const bucket = LATENCY_BOUNDS_MS.findIndex((bound) => attempt.durationMs <= bound);
    stats.latency[bucket] = (stats.latency[bucket] ?? 0) + 1;
  }

  /** Moves what this instance recorded to where every monitor reads it. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await this.store.add(batch);
  }

  /**
   * The deal's attempts second by second, from `fromSecond` up to and including `toSecond`,
   * and the last `recentSeconds` of them summed: the monitor's headline numbers.
   */
  async read(dealId: string, fromSecond: number, toSecond: number, recentSeconds: number) {
    await this.flush();
    const seconds: number[] = [];
    for (let t = fromSecond; t <= toSecond; t++) seconds.push(t);
    const stats = await this.store.read(dealId, seconds);
    const recent = emptySecond();
    for (const second of stats.slice(-recentSeconds)) addInto(recent, second);
    return {
      seconds: seconds.map((t, i) => summarise(t, stats[i] ?? emptySecond())),
      recent: { ...summarise(toSecond, recent), seconds: Math.min(recentSeconds, seconds.length) },
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function summarise(t: number, stats: SecondStats): SecondSeries {
  return {
    t,
    attempts: stats.outcomes,
    total: Object.values(stats.outcomes).reduce((sum, n) => sum + (n ?? 0), 0),
    p50Ms: percentile(stats.latency, 0.5),
    p99Ms: percentile(stats.latency, 0.99),
  };
}

/** The upper bound of the bucket holding the q-th attempt; the slowest finite bound past it. */
function percentile(histogram: number[], q: number): number | null {
  const total = histogram.reduce((sum, n) => sum + (n ?? 0), 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let bucket = 0; bucket < LATENCY_BOUNDS_MS.length; bucket++) {
    seen += histogram[bucket] ?? 0;
    if (seen >= rank) {
      const bound = LATENCY_BOUNDS_MS[bucket] ?? Number.POSITIVE_INFINITY;
      return Number.isFinite(bound) ? bound : (LATENCY_BOUNDS_MS.at(-2) as number);
    }
  }
  return null;
}

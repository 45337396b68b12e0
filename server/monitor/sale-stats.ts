import "server-only";
import { ATTEMPT_OUTCOMES, type AttemptOutcome, OUTCOMES } from "@/lib/claims/claim-outcomes";
import type { ClaimAttempt } from "../claims/claim-observer";
import type { RedisClient } from "../redis/client";

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
const KEEP_MS = 15 * 60_000;
const FLUSH_EVERY_MS = 500;
/** Deals remembered as real, so their shed or failed attempts are counted too. */
const KNOWN_DEALS = 10_000;

interface SecondStats {
  outcomes: Partial<Record<AttemptOutcome, number>>;
  latency: number[];
}

export interface SecondSeries {
  /** Epoch second. */
  t: number;
  attempts: Partial<Record<AttemptOutcome, number>>;
  total: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

const emptySecond = (): SecondStats => ({ outcomes: {}, latency: [] });

/**
 * Claim attempts per deal per second, by outcome, with a latency histogram: what the live
 * sale monitor draws. Recording is a few map updates in memory; every half second each
 * instance adds its counts to Redis (a pipeline per deal), so a monitor sees every instance's
 * attempts. Without Redis the counts stay in this process, which is then the only one.
 */
export class SaleStats {
  private pending = new Map<string, Map<number, SecondStats>>();
  private readonly local = new Map<string, Map<number, SecondStats>>();
  private readonly knownDeals = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient | null,
    private readonly prefix: string,
  ) {
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
    if (!this.redis) {
      for (const [dealId, seconds] of batch) mergeInto(this.local, dealId, seconds);
      this.forgetOld();
      return;
    }
    // One pipeline per deal: a Cluster runs a pipeline on one node, and a deal's keys share
    // its `{deal:ID}` slot while different deals' keys may live on different masters.
    const redis = this.redis;
    await Promise.all(
      [...batch].map(([dealId, seconds]) => {
        const pipeline = redis.pipeline();
        for (const [second, stats] of seconds) {
          const key = this.key(dealId, second);
          for (const [outcome, n] of Object.entries(stats.outcomes)) {
            pipeline.hincrby(key, `o:${outcome}`, n);
          }
          stats.latency.forEach((n, bucket) => {
            if (n) pipeline.hincrby(key, `l:${bucket}`, n);
          });
          pipeline.pexpire(key, KEEP_MS);
        }
        return pipeline.exec();
      }),
    );
  }

  /**
   * The deal's attempts second by second, from `fromSecond` up to and including `toSecond`,
   * and the last `recentSeconds` of them summed: the monitor's headline numbers.
   */
  async read(dealId: string, fromSecond: number, toSecond: number, recentSeconds: number) {
    await this.flush();
    const seconds: number[] = [];
    for (let t = fromSecond; t <= toSecond; t++) seconds.push(t);
    let stats: SecondStats[];
    if (this.redis) {
      const pipeline = this.redis.pipeline();
      for (const t of seconds) pipeline.hgetall(this.key(dealId, t));
      const replies = (await pipeline.exec()) ?? [];
      stats = replies.map(([, hash]) => parseHash((hash ?? {}) as Record<string, string>));
    } else {
      const kept = this.local.get(dealId);
      stats = seconds.map((t) => kept?.get(t) ?? emptySecond());
    }
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

  private key(dealId: string, second: number) {
    return `${this.prefix}{deal:${dealId}}:monitor:${second}`;
  }

  private forgetOld() {
    const oldest = Math.floor((Date.now() - KEEP_MS) / 1_000);
    for (const [dealId, seconds] of this.local) {
      for (const second of seconds.keys()) if (second < oldest) seconds.delete(second);
      if (seconds.size === 0) this.local.delete(dealId);
    }
  }
}

function mergeInto(
  store: Map<string, Map<number, SecondStats>>,
  dealId: string,
  seconds: Map<number, SecondStats>,
) {
  let kept = store.get(dealId);
  if (!kept) {
    kept = new Map();
    store.set(dealId, kept);
  }
  for (const [second, stats] of seconds) {
    const into = kept.get(second) ?? emptySecond();
    addInto(into, stats);
    kept.set(second, into);
  }
}

function addInto(into: SecondStats, stats: SecondStats) {
  for (const [outcome, n] of Object.entries(stats.outcomes) as [AttemptOutcome, number][]) {
    into.outcomes[outcome] = (into.outcomes[outcome] ?? 0) + n;
  }
  stats.latency.forEach((n, bucket) => {
    into.latency[bucket] = (into.latency[bucket] ?? 0) + (n ?? 0);
  });
}

function parseHash(hash: Record<string, string>): SecondStats {
  const stats = emptySecond();
  for (const [field, value] of Object.entries(hash)) {
    const n = Number(value);
    if (field.startsWith("o:")) {
      const outcome = field.slice(2) as AttemptOutcome;
      if (ATTEMPT_OUTCOMES.includes(outcome)) stats.outcomes[outcome] = n;
    } else if (field.startsWith("l:")) {
      stats.latency[Number(field.slice(2))] = n;
    }
  }
  return stats;
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

import "server-only";
import { ATTEMPT_OUTCOMES, type AttemptOutcome } from "@/lib/claims/claim-outcomes";
import type { RedisClient } from "../redis/client";

/** One second of one deal's attempts: counts by outcome and a latency histogram. */
export interface SecondStats {
  outcomes: Partial<Record<AttemptOutcome, number>>;
  latency: number[];
}

/** Per deal, per epoch second. */
export type StatsBatch = Map<string, Map<number, SecondStats>>;

const KEEP_MS = 15 * 60_000;

export const emptySecond = (): SecondStats => ({ outcomes: {}, latency: [] });

/** Where SaleStats keeps what its instances counted (the platform chooses, server/platform.ts). */
export interface SaleStatsStore {
  add(batch: StatsBatch): Promise<void>;
  /** The deal's stats for each of `seconds`, in that order (empty where none were counted). */
  read(dealId: string, seconds: number[]): Promise<SecondStats[]>;
}

/** Every instance's counts, in one hash per deal per second that expires after KEEP_MS. */
export class RedisSaleStatsStore implements SaleStatsStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async add(batch: StatsBatch): Promise<void> {
    // One pipeline per deal: a Cluster runs a pipeline on one node, and a deal's keys share
    // its `{deal:ID}` slot while different deals' keys may live on different masters.
    await Promise.all(
      [...batch].map(([dealId, seconds]) => {
        const pipeline = this.redis.pipeline();
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

  async read(dealId: string, seconds: number[]): Promise<SecondStats[]> {
    const pipeline = this.redis.pipeline();
    for (const t of seconds) pipeline.hgetall(this.key(dealId, t));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([, hash]) => parseHash((hash ?? {}) as Record<string, string>));
  }

  private key(dealId: string, second: number) {
    return `${this.prefix}{deal:${dealId}}:monitor:${second}`;
  }
}

/** This process's counts, for the embedded platform (one process, so nobody else's to see). */
export class LocalSaleStatsStore implements SaleStatsStore {
  private readonly kept: StatsBatch = new Map();

  async add(batch: StatsBatch): Promise<void> {
    for (const [dealId, seconds] of batch) {
      let kept = this.kept.get(dealId);
      if (!kept) {
        kept = new Map();
        this.kept.set(dealId, kept);
      }
      for (const [second, stats] of seconds) {
        const into = kept.get(second) ?? emptySecond();
        addInto(into, stats);
        kept.set(second, into);
      }
    }
    this.forgetOld();
  }

  async read(dealId: string, seconds: number[]): Promise<SecondStats[]> {
    const kept = this.kept.get(dealId);
    return seconds.map((t) => kept?.get(t) ?? emptySecond());
  }

  private forgetOld() {
    const oldest = Math.floor((Date.now() - KEEP_MS) / 1_000);
    for (const [dealId, seconds] of this.kept) {
      for (const second of seconds.keys()) if (second < oldest) seconds.delete(second);
      if (seconds.size === 0) this.kept.delete(dealId);
    }
  }
}

export function addInto(into: SecondStats, stats: SecondStats) {
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

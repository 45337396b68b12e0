import "server-only";
import superjson from "superjson";
import type { RedisClient } from "../redis/client";

/** Where a lookup was answered from: this instance, Redis, or a load from the database. */
export type CacheLookup = "local_hit" | "shared_hit" | "miss";

interface ReadThroughCacheOptions {
  /** Names the cache to `onLookup`, for metrics. */
  name?: string;
  redis: RedisClient | null;
  keyPrefix: string;
  /** How long an entry lives in Redis, shared by every instance. */
  ttlMs: number;
  /** How long an instance keeps an entry in memory without asking Redis. */
  localTtlMs: number;
  /** Longest a rebuild may take before another instance may try. */
  rebuildLockMs: number;
  /** Told where each lookup was answered from; a caller joining a load in flight counts as local. */
  onLookup?: (lookup: CacheLookup, cache: string) => void;
}

const MISS = { miss: true } as const;
const WAIT_STEP_MS = 20;

/**
 * A two-level read-through cache: a small in-process map in front of Redis. When an entry
 * expires, one caller rebuilds it: in-process callers share one promise, and across
 * instances a short `SET NX` lock lets one load while the others wait for its result, so a
 * burst of misses costs the database one query. A lookup that found nothing is cached too.
 * `invalidateAll` moves every instance to a new generation of keys at once.
 */
export class ReadThroughCache {
  private readonly local = new Map<string, { value: unknown; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ReadThroughCacheOptions) {}

  async get<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const cached = this.local.get(key);
    if (cached && cached.expiresAt > Date.now()) {
      this.report("local_hit");
      return cached.value as T | null;
    }
    const running = this.inFlight.get(key);
    if (running) {
      this.report("local_hit");
      return running as Promise<T | null>;
    }
    const fetching = this.fetch(key, load).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, fetching);
    return fetching;
  }

  /** Every entry on every instance is stale from now (in-process copies within localTtlMs). */
  async invalidateAll(): Promise<void> {
    this.local.clear();
    await this.options.redis?.incr(this.generationKey());
  }

  private async fetch<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const value = this.options.redis ? await this.fetchShared(key, load) : await this.load(load);
    this.local.set(key, { value, expiresAt: Date.now() + this.options.localTtlMs });
    return value;
  }

  private async fetchShared<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const redis = this.options.redis as RedisClient;
    const generation = (await redis.get(this.generationKey())) ?? "0";
    const entryKey = `${this.options.keyPrefix}cache:${generation}:${key}`;
    const lockKey = `${entryKey}:rebuild`;
    const stored = await redis.get(entryKey);
    if (stored !== null) return this.sharedHit<T>(stored);

    const locked = await redis.set(lockKey, "1", "PX", this.options.rebuildLockMs, "NX");
    if (!locked) {
      // Another instance is rebuilding: wait for its result rather than query as well.
      const deadline = Date.now() + this.options.rebuildLockMs;
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
        const arrived = await redis.get(entryKey);
        if (arrived !== null) return this.sharedHit<T>(arrived);
      }
    }
    try {
      const value = await this.load(load);
      await redis.set(entryKey, superjson.stringify(value ?? MISS), "PX", this.options.ttlMs);
      return value;
    } finally {
      if (locked) await redis.del(lockKey);
    }
  }

  private load<T>(load: () => Promise<T | null>): Promise<T | null> {
    this.report("miss");
    return load();
  }

  private sharedHit<T>(stored: string): T | null {
    this.report("shared_hit");
    return decode<T>(stored);
  }

  private report(lookup: CacheLookup) {
    this.options.onLookup?.(lookup, this.options.name ?? "cache");
  }

  private generationKey() {
    return `${this.options.keyPrefix}cache:generation`;
  }
}

function decode<T>(stored: string): T | null {
  const value = superjson.parse<T | typeof MISS>(stored);
  return value !== null && typeof value === "object" && "miss" in value ? null : (value as T);
}

import "server-only";
import { LRUCache } from "lru-cache";
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
  /** Most entries an instance keeps in memory; the least recently used go first. */
  maxEntries?: number;
  /**
   * Most bytes an instance keeps in memory, counted as the characters of the entries' JSON and
   * keys (their heap size is a small multiple of that). An entry over a quarter of it is served
   * but not kept.
   */
  maxBytes?: number;
}

/** What the in-process level holds now: never more than its bounds. */
export interface LocalCacheSize {
  entries: number;
  bytes: number;
}

interface LocalEntry {
  value: unknown;
}

const MISS = { miss: true } as const;
const WAIT_STEP_MS = 20;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/**
 * A two-level read-through cache: a small in-process map in front of Redis. When an entry
 * expires, one caller rebuilds it: in-process callers share one promise, and across
 * instances a short `SET NX` lock lets one load while the others wait for its result, so a
 * burst of misses costs the database one query. A lookup that found nothing is cached too.
 * `invalidateAll` moves every instance to a new generation of keys at once.
 *
 * Bounded at both levels, since anyone can ask for keys: the in-process level is an LRU with a
 * cap on entries and on bytes, and every Redis key it writes expires (`ttlMs`, the rebuild lock
 * `rebuildLockMs`), so Redis holds at most the keys asked for within one `ttlMs`. Callers keep
 * the key space finite (see nearCell); `inFlight` holds only the loads running now.
 */
export class ReadThroughCache {
  private readonly local: LRUCache<string, LocalEntry>;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ReadThroughCacheOptions) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.local = new LRUCache<string, LocalEntry>({
      max: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      maxSize: maxBytes,
      maxEntrySize: Math.floor(maxBytes / 4),
      ttl: options.localTtlMs,
    });
  }

  /** Entries and bytes held in this process. */
  localSize(): LocalCacheSize {
    return { entries: this.local.size, bytes: this.local.calculatedSize };
  }

  async get<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const cached = this.local.get(key);
    if (cached) {
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
    const { value, stored } = this.options.redis
      ? await this.fetchShared(key, load)
      : await this.loadAlone(load);
    this.local.set(key, { value }, { size: stored.length + key.length });
    return value;
  }

  private async loadAlone<T>(load: () => Promise<T | null>): Promise<Fetched<T>> {
    const value = await this.load(load);
    return { value, stored: superjson.stringify(value ?? MISS) };
  }

  private async fetchShared<T>(key: string, load: () => Promise<T | null>): Promise<Fetched<T>> {
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
      const fetched = await this.loadAlone(load);
      await redis.set(entryKey, fetched.stored, "PX", this.options.ttlMs);
      return fetched;
    } finally {
      if (locked) await redis.del(lockKey);
    }
  }

  private load<T>(load: () => Promise<T | null>): Promise<T | null> {
    this.report("miss");
    return load();
  }

  private sharedHit<T>(stored: string): Fetched<T> {
    this.report("shared_hit");
    return { value: decode<T>(stored), stored };
  }

  private report(lookup: CacheLookup) {
    this.options.onLookup?.(lookup, this.options.name ?? "cache");
  }

  private generationKey() {
    return `${this.options.keyPrefix}cache:generation`;
  }
}

/** A value and its stored form, whose length is what the in-process level counts. */
interface Fetched<T> {
  value: T | null;
  stored: string;
}

function decode<T>(stored: string): T | null {
  const value = superjson.parse<T | typeof MISS>(stored);
  return value !== null && typeof value === "object" && "miss" in value ? null : (value as T);
}

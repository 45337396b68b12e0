import "server-only";
import { LRUCache } from "lru-cache";
import type { RedisClient } from "../redis/client";
import { LuaScript } from "../redis/lua-script";
import { boundedKey } from "./bounded-key";

export interface RateDecision {
  allowed: boolean;
  retryAfterMs: number;
}

export interface RateLimiter {
  /**
   * Counts one hit on `key` in a fixed window of `windowMs`; refuses past `limit`. The key is
   * stored as its boundedKey, whatever its length.
   */
  hit(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  /** The hits counted on `key` in its current window, without counting one. */
  peek(key: string): Promise<{ count: number; retryAfterMs: number }>;
  /** Forgets `key`'s window. */
  reset(key: string): Promise<void>;
}

const hitScript = new LuaScript("server/rate-limit/hit.lua");

/** Shared by every app instance through Redis. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const reply = (await hitScript.run(
      this.redis,
      [`${this.prefix}rl:${boundedKey(key)}`],
      [windowMs],
    )) as [number, number];
    const [count, ttl] = reply;
    return { allowed: count <= limit, retryAfterMs: count <= limit ? 0 : Math.max(ttl, 1) };
  }

  async peek(key: string) {
    const name = `${this.prefix}rl:${boundedKey(key)}`;
    const [count, ttl] = await Promise.all([this.redis.get(name), this.redis.pttl(name)]);
    return { count: Number(count ?? 0), retryAfterMs: Math.max(ttl, 1) };
  }

  async reset(key: string) {
    await this.redis.del(`${this.prefix}rl:${boundedKey(key)}`);
  }
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * For embedded mode, which is one process by construction (PGlite has one connection). The
 * windows are an LRU bounded in count and in key bytes, each dropped when it resets: callers
 * key it by what anyone may send. A full limiter forgets the window hit least recently; a key
 * under attack is hit all the time, so pushing it out takes `maxKeys` other keys between two
 * of its hits, each a request that is counted too.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows: LRUCache<string, Window>;

  constructor(bounds: { maxKeys?: number; maxKeyBytes?: number } = {}) {
    this.windows = new LRUCache<string, Window>({
      max: bounds.maxKeys ?? 100_000,
      maxSize: bounds.maxKeyBytes ?? 16 * 1024 * 1024,
      // A window's own fields and the map's node, beside the key.
      sizeCalculation: (_window, key) => key.length + 64,
    });
  }

  /** Windows held now. */
  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    const stored = boundedKey(key);
    let window = this.windows.get(stored);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(stored, window, { ttl: windowMs });
    }
    window.count++;
    const allowed = window.count <= limit;
    return { allowed, retryAfterMs: allowed ? 0 : window.resetAt - now };
  }

  async peek(key: string) {
    const now = Date.now();
    const window = this.windows.get(boundedKey(key));
    if (!window || window.resetAt <= now) return { count: 0, retryAfterMs: 1 };
    return { count: window.count, retryAfterMs: window.resetAt - now };
  }

  async reset(key: string) {
    this.windows.delete(boundedKey(key));
  }
}

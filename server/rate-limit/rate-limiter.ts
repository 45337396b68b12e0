import "server-only";
import type { RedisClient } from "../redis/client";
import { LuaScript } from "../redis/lua-script";

export interface RateDecision {
  allowed: boolean;
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Counts one hit on `key` in a fixed window of `windowMs`; refuses past `limit`. */
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
    const reply = (await hitScript.run(this.redis, [`${this.prefix}rl:${key}`], [windowMs])) as [
      number,
      number,
    ];
    const [count, ttl] = reply;
    return { allowed: count <= limit, retryAfterMs: count <= limit ? 0 : Math.max(ttl, 1) };
  }

  async peek(key: string) {
    const name = `${this.prefix}rl:${key}`;
    const [count, ttl] = await Promise.all([this.redis.get(name), this.redis.pttl(name)]);
    return { count: Number(count ?? 0), retryAfterMs: Math.max(ttl, 1) };
  }

  async reset(key: string) {
    await this.redis.del(`${this.prefix}rl:${key}`);
  }
}

/** For embedded mode, which is one process by construction (PGlite has one connection). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
      if (this.windows.size > 50_000) this.dropExpired(now);
    }
    window.count++;
    const allowed = window.count <= limit;
    return { allowed, retryAfterMs: allowed ? 0 : window.resetAt - now };
  }

  async peek(key: string) {
    const now = Date.now();
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) return { count: 0, retryAfterMs: 1 };
    return { count: window.count, retryAfterMs: window.resetAt - now };
  }

  async reset(key: string) {
    this.windows.delete(key);
  }

  private dropExpired(now: number) {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

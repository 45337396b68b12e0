import "server-only";
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
}

/** For embedded mode, which is one process by construction (PGlite has one connection). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    const stored = boundedKey(key);
    let window = this.windows.get(stored);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(stored, window);
      if (this.windows.size > 50_000) this.dropExpired(now);
    }
    window.count++;
    const allowed = window.count <= limit;
    return { allowed, retryAfterMs: allowed ? 0 : window.resetAt - now };
  }

  private dropExpired(now: number) {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis } from "@/testing/test-redis";
import { gateKeys } from "../claims/gate-keys";
import { MemoryRateLimiter, RedisRateLimiter } from "./rate-limiter";

const testRedis = createTestRedis();
afterAll(() => testRedis.cleanUp());

/** A name as long as a request can make one: a 15 KB header where an address belongs. */
const HUGE = `signin:ip:${"x".repeat(15_000)}`;

describe("rate-limit keys are bounded, whatever a request puts in their name", () => {
  it("Redis: each counter's key is the prefix and a 22-character digest, and still counts", async () => {
    const { redis, prefix } = testRedis;
    const limiter = new RedisRateLimiter(redis, prefix);
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push((await limiter.hit(HUGE, 2, 60_000)).allowed);
    expect(decisions).toEqual([true, true, false]);
    await limiter.hit("signin:ip:203.0.113.9", 2, 60_000);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(new RegExp(`^${prefix}rl:[\\w-]{22}$`));
  });

  it("in memory (embedded mode): the same limits, each window held under a 22-character name", async () => {
    const limiter = new MemoryRateLimiter();
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push((await limiter.hit(HUGE, 2, 60_000)).allowed);
    expect(decisions).toEqual([true, true, false]);
    expect((await limiter.hit(`${HUGE}y`, 2, 60_000)).allowed).toBe(true);
    const { windows } = limiter as unknown as { windows: Map<string, unknown> };
    expect([...windows.keys()].map((name) => name.length)).toEqual([22, 22]);
  });

  it("the gate's per-address counter holds a digest of the address, not the address", () => {
    const keys = gateKeys("dd:", "AbCdEfGh1234");
    const key = keys.addressAttempts("x".repeat(15_000));
    expect(key).toMatch(/^dd:\{deal:AbCdEfGh1234\}:rl:ip:[\w-]{22}$/);
    expect(keys.addressAttempts("203.0.113.9")).not.toContain("203.0.113.9");
  });
});

const MINUTE = 60_000;

describe("the in-memory rate limiter is bounded", () => {
  it("holds at most its keys however many distinct ones are hit inside a window", async () => {
    const limiter = new MemoryRateLimiter({ maxKeys: 10_000 });
    for (let i = 0; i < 60_000; i++) await limiter.hit(`signin:email:${i}@example.test`, 5, MINUTE);
    expect(limiter.size).toBeLessThanOrEqual(10_000);
  });

  it("a key hit all the time stays limited through a flood of others", async () => {
    const limiter = new MemoryRateLimiter({ maxKeys: 1_000 });
    const decisions: boolean[] = [];
    for (let round = 0; round < 8; round++) {
      decisions.push((await limiter.hit("signin:email:victim@example.test", 5, MINUTE)).allowed);
      for (let i = 0; i < 500; i++) await limiter.hit(`flood:${round}:${i}`, 5, MINUTE);
    }
    expect(decisions).toEqual([true, true, true, true, true, false, false, false]);
  });
});

import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "./rate-limiter";

const MINUTE = 60_000;

describe("the in-memory rate limiter is bounded", () => {
  it("holds at most its keys however many distinct ones are hit inside a window", async () => {
    const limiter = new MemoryRateLimiter({ maxKeys: 10_000 });
    for (let i = 0; i < 60_000; i++) await limiter.hit(`signin:email:${i}@example.test`, 5, MINUTE);
    expect(limiter.size).toBeLessThanOrEqual(10_000);
  });

  it("counts key bytes: long keys fill it sooner", async () => {
    const limiter = new MemoryRateLimiter({ maxKeyBytes: 1024 * 1024 });
    const padding = "x".repeat(15_000);
    for (let i = 0; i < 1_000; i++) await limiter.hit(`signin:ip:${i}${padding}`, 5, MINUTE);
    expect(limiter.size).toBeLessThan(70); // ~15 KB each in 1 MB
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

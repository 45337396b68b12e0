import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { createTestRedis, type TestRedis } from "@/testing/test-redis";
import type { AttemptOutcome } from "../claims/claim-observer";
import { SaleStats } from "./sale-stats";
import { LocalSaleStatsStore, RedisSaleStatsStore } from "./sale-stats-store";

let testRedis: TestRedis;
const stopped: SaleStats[] = [];
beforeAll(() => {
  testRedis = createTestRedis();
});
afterAll(async () => {
  for (const stats of stopped) stats.stop();
  await testRedis?.cleanUp();
});

function statsOn(redis: TestRedis["redis"] | null) {
  const stats = new SaleStats(
    redis ? new RedisSaleStatsStore(redis, testRedis.prefix) : new LocalSaleStatsStore(),
  );
  stopped.push(stats);
  return stats;
}

const attempt = (dealId: string, outcome: AttemptOutcome) => ({
  dealId,
  outcome,
  durationMs: 1,
  gateMs: 1,
});

/** Every attempt counted for the deal over the last minute. */
async function counted(stats: SaleStats, dealId: string) {
  const now = Math.floor(Date.now() / 1_000);
  const { seconds } = await stats.read(dealId, now - 60, now + 1, 5);
  return seconds.reduce((sum, second) => sum + second.total, 0);
}

describe("attempts on made-up deals are not kept per deal", () => {
  for (const mode of ["redis", "embedded"] as const) {
    it(`${mode}: leaves no key or entry for them, and still counts a real deal's every outcome`, async () => {
      const stats = statsOn(mode === "redis" ? testRedis.redis : null);
      const madeUp = Array.from({ length: 1_000 }, () => newId());
      for (const [i, dealId] of madeUp.entries()) {
        stats.record(
          attempt(dealId, (["NOT_FOUND", "SHED", "UNAVAILABLE"] as const)[i % 3] ?? "ERROR"),
        );
      }
      const real = newId();
      stats.record(attempt(real, "SOLD_OUT"));
      stats.record(attempt(real, "SHED"));
      stats.record(attempt(real, "RATE_LIMITED"));
      await stats.flush();

      expect(await counted(stats, real)).toBe(3);
      for (const dealId of madeUp.slice(0, 3)) expect(await counted(stats, dealId)).toBe(0);
      if (mode === "redis") {
        const keys = await testRedis.redis.keys(`${testRedis.prefix}*monitor*`);
        expect(keys.every((key) => key.includes(`{deal:${real}}`))).toBe(true);
      }
    });
  }
});

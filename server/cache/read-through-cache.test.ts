import { randomBytes } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, type TestRedis } from "@/testing/test-redis";
import { type CacheLookup, ReadThroughCache } from "./read-through-cache";

// A full collection before each heap reading, so the reading is what is still referenced.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;
const MB = 1024 * 1024;

let testRedis: TestRedis;
beforeAll(() => {
  testRedis = createTestRedis();
});
afterAll(async () => {
  await testRedis?.cleanUp();
});

function embeddedCache(bounds: { maxEntries?: number; maxBytes?: number } = {}) {
  const lookups: CacheLookup[] = [];
  const cache = new ReadThroughCache({
    redis: null,
    keyPrefix: "unused:",
    ttlMs: 60_000,
    // Nothing expires during the test: only the bounds can free memory.
    localTtlMs: 60_000,
    rebuildLockMs: 2_000,
    onLookup: (lookup) => lookups.push(lookup),
    ...bounds,
  });
  return { cache, lookups };
}

/** About 1 KB of text that shares no memory with any other value. */
const kilobyteValue = (key: string) => ({ key, text: randomBytes(512).toString("hex") });

function heapUsed() {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

describe("the in-process level is bounded", () => {
  it("100,000 distinct lookups keep it within its entries and the heap flat", async () => {
    const { cache } = embeddedCache({ maxEntries: 10_000, maxBytes: 32 * MB });
    const before = heapUsed();
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => {
          const key = `k:${batch * 1_000 + i}`;
          return cache.get(key, async () => kilobyteValue(key));
        }),
      );
    }
    // 10,000 entries of ~1 KB hold ~12 MB; every lookup kept would hold over 100 MB. The bound
    // is generous so that a busy machine's garbage cannot make it flaky.
    expect(heapUsed() - before).toBeLessThan(48 * MB);
    const size = cache.localSize();
    expect(size.entries).toBe(10_000);
    expect(size.bytes).toBeLessThanOrEqual(32 * MB);
  });

  it("counts bytes as well as entries, and lets the least recently used go first", async () => {
    const { cache, lookups } = embeddedCache({ maxEntries: 1_000, maxBytes: 64 * 1_024 });
    const load = (key: string) => async () => kilobyteValue(key);
    await cache.get("first", load("first"));
    for (let i = 0; i < 200; i++) {
      await cache.get(`k:${i}`, load(`k:${i}`));
      await cache.get("first", load("first")); // used again each time: never the oldest
    }
    const size = cache.localSize();
    expect(size.bytes).toBeLessThanOrEqual(64 * 1_024);
    expect(size.entries).toBeLessThan(64); // ~1 KB each: the bytes bound holds, not the count
    lookups.length = 0;
    await cache.get("first", load("first"));
    await cache.get("k:199", load("k:199"));
    await cache.get("k:0", load("k:0"));
    expect(lookups).toEqual(["local_hit", "local_hit", "miss"]);
  });

  it("serves an entry too big to keep without keeping it", async () => {
    const { cache, lookups } = embeddedCache({ maxBytes: 16 * 1_024 });
    const big = async () => ({ text: randomBytes(4 * 1_024).toString("hex") });
    expect((await cache.get("big", big))?.text).toHaveLength(8 * 1_024);
    expect(await cache.get("big", big)).not.toBeNull();
    expect(lookups).toEqual(["miss", "miss"]);
    expect(cache.localSize()).toEqual({ entries: 0, bytes: 0 });
  });
});

describe("the Redis level is bounded", () => {
  it("every key it writes expires within its lifetime", async () => {
    const cache = new ReadThroughCache({
      redis: testRedis.redis,
      keyPrefix: testRedis.prefix,
      ttlMs: 5_000,
      localTtlMs: 1_000,
      rebuildLockMs: 2_000,
    });
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => cache.get(`k:${i}`, async () => ({ i }))),
    );
    await cache.get("unknown", async () => null);
    const keys = await testRedis.redis.keys(`${testRedis.prefix}cache:*`);
    const entries = keys.filter((key) => !key.endsWith("cache:generation"));
    expect(entries).toHaveLength(501); // no rebuild lock is left behind
    const ttls = await Promise.all(entries.map((key) => testRedis.redis.pttl(key)));
    expect(ttls.every((ttl) => ttl > 0 && ttl <= 5_000)).toBe(true);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { createTestRedis } from "@/testing/test-redis";
import {
  LocalStockTransport,
  RedisStockTransport,
  StockFeed,
  type StockUpdate,
} from "./stock-feed";

const testRedis = createTestRedis();
afterAll(() => testRedis.cleanUp());

/** The count now, then the updates that follow, until `until` holds or the time is up. */
async function collect(feed: StockFeed, dealId: string, until: (seen: StockUpdate[]) => boolean) {
  const seen: StockUpdate[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const stop = feed.listen(dealId, (update) => {
    seen.push(update);
    if (until(seen)) done();
  });
  seen.unshift(await feed.current(dealId));
  const timeout = setTimeout(done, 3_000);
  await finished;
  clearTimeout(timeout);
  stop();
  return seen;
}

describe("live stock", () => {
  it("carries a burst of changes on one instance to a subscriber on another as a few coalesced updates", async () => {
    let remaining = 100;
    const read = async () => ({ remaining, quantity: 100 });
    const publisher = new StockFeed(
      read,
      new RedisStockTransport(testRedis.redis, testRedis.prefix),
      100,
    );
    const watcher = new StockFeed(
      read,
      new RedisStockTransport(testRedis.redis, testRedis.prefix),
      100,
    );
    const dealId = newId();
    const received = collect(watcher, dealId, (seen) => seen.at(-1)?.remaining === 0);
    await watcher.listening(dealId);
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      remaining--;
      publisher.changed(dealId);
      if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const seen = await received;
    const elapsedMs = performance.now() - started;
    expect(seen[0]?.remaining).toBe(100);
    expect(seen.at(-1)?.remaining).toBe(0);
    // At most one update per 100 ms window, however slow a busy machine made the burst (about
    // 250 ms when idle: a handful of updates, not a hundred), plus the count read first.
    expect(seen.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 100));
    expect(seen.length).toBeLessThan(100);
    publisher.close();
    watcher.close();
  });

  it("works in one process without Redis", async () => {
    let remaining = 3;
    const feed = new StockFeed(
      async () => ({ remaining, quantity: 3 }),
      new LocalStockTransport(),
      10,
    );
    const dealId = newId();
    const received = collect(feed, dealId, (seen) => seen.at(-1)?.remaining === 0);
    for (const next of [2, 1, 0]) {
      remaining = next;
      feed.changed(dealId);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect((await received).map((update) => update.remaining)).toEqual([3, 2, 1, 0]);
    feed.close();
  });
});

import { getEventListeners } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { createTestRedis } from "../testing/test-redis";
import {
  LocalStockTransport,
  RedisStockTransport,
  StockFeed,
  type StockUpdate,
} from "./stock-feed";

const testRedis = createTestRedis();
afterAll(() => testRedis.cleanUp());

/** Collects what a subscriber receives until `count` updates arrived or the time is up. */
async function collect(feed: StockFeed, dealId: string, until: (seen: StockUpdate[]) => boolean) {
  const controller = new AbortController();
  const seen: StockUpdate[] = [];
  const timeout = setTimeout(() => controller.abort(), 3_000);
  for await (const update of feed.subscribe(dealId, controller.signal)) {
    seen.push(update);
    if (until(seen)) break;
  }
  clearTimeout(timeout);
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
    await new Promise((resolve) => setTimeout(resolve, 100)); // the subscription is in place
    for (let i = 0; i < 100; i++) {
      remaining--;
      publisher.changed(dealId);
      if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const seen = await received;
    expect(seen[0]?.remaining).toBe(100);
    expect(seen.at(-1)?.remaining).toBe(0);
    // 100 changes over about 250 ms: a handful of updates, not a hundred.
    expect(seen.length).toBeLessThanOrEqual(6);
    publisher.close();
    watcher.close();
  });

  it("works in one process without Redis, and a slow subscriber skips to the newest count", async () => {
    let remaining = 3;
    const feed = new StockFeed(
      async () => ({ remaining, quantity: 3 }),
      new LocalStockTransport(),
      10,
    );
    const dealId = newId();
    const controller = new AbortController();
    const iterator = feed.subscribe(dealId, controller.signal);
    expect((await iterator.next()).value?.remaining).toBe(3);
    for (const next of [2, 1, 0]) {
      remaining = next;
      feed.changed(dealId);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    // Three updates were published while nobody read: only the newest is delivered.
    expect((await iterator.next()).value?.remaining).toBe(0);
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
    feed.close();
  });

  it("lets go of the abort signal when a subscription ends, however it ends", async () => {
    const feed = new StockFeed(
      async () => ({ remaining: 1, quantity: 1 }),
      new LocalStockTransport(),
      10,
    );
    const dealId = newId();
    // One signal for many subscriptions, as a long-lived connection's would be.
    const shared = new AbortController();
    for (let i = 0; i < 3; i++) {
      for await (const update of feed.subscribe(dealId, shared.signal)) {
        expect(update.remaining).toBe(1);
        break;
      }
    }
    expect(getEventListeners(shared.signal, "abort")).toHaveLength(0);

    const aborted = new AbortController();
    const iterator = feed.subscribe(dealId, aborted.signal);
    await iterator.next();
    const waiting = iterator.next();
    aborted.abort();
    expect((await waiting).done).toBe(true);
    expect(getEventListeners(aborted.signal, "abort")).toHaveLength(0);
    feed.close();
  });
});

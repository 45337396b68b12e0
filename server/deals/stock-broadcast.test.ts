import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { createTestRedis } from "@/testing/test-redis";
import { StockBroadcasts, type StockSink } from "./stock-broadcast";
import {
  LocalStockTransport,
  RedisStockTransport,
  StockFeed,
  type StockUpdate,
} from "./stock-feed";

const testRedis = createTestRedis();
afterAll(() => testRedis.cleanUp());

/** A reader that keeps what it was sent; `behind` makes its writes answer false. */
class RecordingSink implements StockSink {
  readonly chunks: Uint8Array[] = [];
  behind = false;

  write(chunk: Uint8Array) {
    this.chunks.push(chunk);
    return !this.behind;
  }

  get counts(): number[] {
    return this.text
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: "))
      .map((frame) => (JSON.parse(frame.slice(6)) as StockUpdate).remaining);
  }

  get text() {
    return this.chunks.map((chunk) => Buffer.from(chunk).toString("utf8")).join("");
  }
}

/** A feed over an in-process transport whose count the test sets, and counts its reads. */
function localFeed(start: number) {
  const state = { remaining: start, reads: 0 };
  const transport = new LocalStockTransport();
  const feed = new StockFeed(async () => {
    state.reads++;
    return { remaining: state.remaining, quantity: 100 };
  }, transport);
  return { state, feed, transport };
}

const until = async (check: () => boolean, timeoutMs = 2_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(5);
  expect(check()).toBe(true);
};

describe("stock broadcasts", () => {
  it("sends the count at once, later viewers the held frame, and one frame object per update", async () => {
    const { state, feed, transport } = localFeed(7);
    const broadcasts = new StockBroadcasts(feed);
    const dealId = newId();
    const first = new RecordingSink();
    broadcasts.join(dealId, first);
    await until(() => first.counts.length === 1);
    expect(first.counts).toEqual([7]);

    const later = Array.from({ length: 5 }, () => new RecordingSink());
    for (const sink of later) broadcasts.join(dealId, sink);
    // Joined while the count was held: sent at once, with no read of their own.
    expect(later.map((sink) => sink.counts)).toEqual(later.map(() => [7]));
    expect(state.reads).toBe(1);

    await transport.publish({ dealId, remaining: 6, quantity: 100, at: Date.now() });
    for (const sink of [first, ...later]) expect(sink.counts).toEqual([7, 6]);
    const frames = new Set([first, ...later].map((sink) => sink.chunks.at(-1)));
    expect(frames.size).toBe(1); // serialized once, the same bytes written to each
    expect(first.text).toContain(`"dealId":"${dealId}"`);
    broadcasts.close();
    feed.close();
  });

  it("writes a few viewers per turn of the event loop, so other work runs in between", async () => {
    const { feed, transport } = localFeed(50);
    const broadcasts = new StockBroadcasts(feed, { sliceSize: 10 });
    const dealId = newId();
    const sinks = Array.from({ length: 35 }, () => new RecordingSink());
    for (const sink of sinks) broadcasts.join(dealId, sink);
    await until(() => sinks.every((sink) => sink.counts.length === 1));

    const reachedWhenOtherWorkRan: number[] = [];
    const reached = () => sinks.filter((sink) => sink.counts.at(-1) === 49).length;
    await transport.publish({ dealId, remaining: 49, quantity: 100, at: Date.now() });
    expect(reached()).toBe(10); // the first slice, at once
    for (let turn = 0; turn < 4; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      reachedWhenOtherWorkRan.push(reached());
    }
    expect(reachedWhenOtherWorkRan).toEqual([20, 30, 35, 35]);
    broadcasts.close();
    feed.close();
  });

  it("an update that arrives mid-walk reaches everyone, and nobody gets a count twice", async () => {
    const { feed, transport } = localFeed(50);
    const broadcasts = new StockBroadcasts(feed, { sliceSize: 4 });
    const dealId = newId();
    const sinks = Array.from({ length: 12 }, () => new RecordingSink());
    for (const sink of sinks) broadcasts.join(dealId, sink);
    await until(() => sinks.every((sink) => sink.counts.length === 1));

    await transport.publish({ dealId, remaining: 49, quantity: 100, at: Date.now() });
    await transport.publish({ dealId, remaining: 48, quantity: 100, at: Date.now() + 1 });
    await until(() => sinks.every((sink) => sink.counts.at(-1) === 48));
    // The first slice saw 49, then 48; the rest went straight to 48.
    expect(sinks.map((sink) => sink.counts)).toEqual(
      sinks.map((_, i) => (i < 4 ? [50, 49, 48] : [50, 48])),
    );
    broadcasts.close();
    feed.close();
  });

  it("skips a reader that is behind, and sends it only the newest count once it drains", async () => {
    const { feed, transport } = localFeed(10);
    const broadcasts = new StockBroadcasts(feed);
    const dealId = newId();
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    const slowViewer = broadcasts.join(dealId, slow);
    broadcasts.join(dealId, fast);
    await until(() => slow.counts.length === 1 && fast.counts.length === 1);

    slow.behind = true;
    let at = Date.now();
    for (const remaining of [9, 8, 7, 6]) {
      await transport.publish({ dealId, remaining, quantity: 100, at: ++at });
    }
    expect(fast.counts).toEqual([10, 9, 8, 7, 6]);
    expect(slow.counts).toEqual([10, 9]); // the write of 9 answered false: nothing since
    // An update stamped earlier than the one held is older news, whenever it arrives.
    await transport.publish({ dealId, remaining: 8, quantity: 100, at: at - 2 });
    expect(fast.counts).toEqual([10, 9, 8, 7, 6]);

    slow.behind = false;
    slowViewer.drained();
    expect(slow.counts).toEqual([10, 9, 6]);
    slowViewer.drained(); // a second drain with nothing new sends nothing
    expect(slow.counts).toEqual([10, 9, 6]);
    broadcasts.close();
    feed.close();
  });

  it("keeps idle streams open with comment lines, and corrects a count whose update was lost", async () => {
    const { state, feed } = localFeed(5);
    const broadcasts = new StockBroadcasts(feed, { heartbeatMs: 40 });
    const dealId = newId();
    const sink = new RecordingSink();
    broadcasts.join(dealId, sink);
    await until(() => sink.text.includes(": keep-alive\n\n"));
    expect(sink.counts).toEqual([5]);

    state.remaining = 4; // changed with no update published
    await until(() => sink.counts.at(-1) === 4);
    broadcasts.close();
    feed.close();
  });

  it("drops the deal's Redis subscription when its last viewer leaves", async () => {
    const channelSubscribers = async (dealId: string) => {
      const channel = `${testRedis.prefix}stock:${dealId}`;
      const [, count] = (await testRedis.redis.pubsub("NUMSUB", channel)) as [string, number];
      return count;
    };
    let remaining = 3;
    const publisher = new StockFeed(
      async () => ({ remaining, quantity: 3 }),
      new RedisStockTransport(testRedis.redis, testRedis.prefix),
      10,
    );
    const feed = new StockFeed(
      async () => ({ remaining, quantity: 3 }),
      new RedisStockTransport(testRedis.redis, testRedis.prefix),
    );
    const broadcasts = new StockBroadcasts(feed);
    const dealId = newId();
    const sinks = [new RecordingSink(), new RecordingSink()];
    const viewers = sinks.map((sink) => broadcasts.join(dealId, sink));
    await until(() => sinks.every((sink) => sink.counts.length === 1));
    await sleep(100); // the subscription is in place
    expect(await channelSubscribers(dealId)).toBe(1); // one for both viewers

    remaining = 2;
    publisher.changed(dealId);
    await until(() => sinks.every((sink) => sink.counts.at(-1) === 2));

    viewers[0]?.leave();
    expect(broadcasts.watched(dealId)).toBe(true);
    viewers[1]?.leave();
    viewers[1]?.leave();
    expect(broadcasts.watched(dealId)).toBe(false);
    const deadline = Date.now() + 2_000;
    while ((await channelSubscribers(dealId)) > 0 && Date.now() < deadline) await sleep(20);
    expect(await channelSubscribers(dealId)).toBe(0);

    // A new viewer starts a new broadcast, with the count read afresh.
    const again = new RecordingSink();
    broadcasts.join(dealId, again);
    await until(() => again.counts.length === 1);
    expect(again.counts).toEqual([2]);
    broadcasts.close();
    feed.close();
    publisher.close();
  });

  it("a viewer leaving after its broadcast was closed leaves the deal's new broadcast alone", async () => {
    let remaining = 2;
    const read = async () => ({ remaining, quantity: 2 });
    const publisher = new StockFeed(
      read,
      new RedisStockTransport(testRedis.redis, testRedis.prefix),
      10,
    );
    const feed = new StockFeed(read, new RedisStockTransport(testRedis.redis, testRedis.prefix));
    const broadcasts = new StockBroadcasts(feed);
    const dealId = newId();
    const early = broadcasts.join(dealId, new RecordingSink());
    broadcasts.close();
    const sink = new RecordingSink();
    broadcasts.join(dealId, sink);
    await until(() => sink.counts.length === 1);

    early.leave();
    expect(broadcasts.watched(dealId)).toBe(true);
    await sleep(100); // the subscription is in place
    remaining = 1;
    publisher.changed(dealId);
    await until(() => sink.counts.at(-1) === 1);
    broadcasts.close();
    feed.close();
    publisher.close();
  });
});

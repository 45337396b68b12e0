import "server-only";
import { EventEmitter } from "node:events";
import { duplicateForSubscribing, type RedisClient } from "../redis/client";

/** A deal's stock: units left, and the quantity they are out of (it grows during a sale). */
export interface Stock {
  remaining: number;
  quantity: number;
}

export interface StockUpdate extends Stock {
  dealId: string;
  at: number;
}

/** Carries stock updates between instances: Redis pub/sub, or in-process in embedded mode. */
export interface StockTransport {
  publish(update: StockUpdate): Promise<void>;
  /** Calls `handler` with every update for the deal until the returned function is called. */
  listen(dealId: string, handler: (update: StockUpdate) => void): () => void;
  /** Resolves once updates for the deal published from now on reach this instance's listeners. */
  listening(dealId: string): Promise<void>;
  close(): void;
}

/**
 * Live stock for deal pages. A change is not sent as it happens: per deal, at most one update
 * goes out every `coalesceMs`, carrying the count read when it fires, so a sale deciding
 * thousands of claims a second sends a few updates a second. Readers take the count now
 * (`current`) and the updates after it (`listen`): StockBroadcasts does, for the live-stock
 * route, and skips a slow viewer to the newest.
 */
export class StockFeed {
  private readonly scheduled = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly readStock: (dealId: string) => Promise<Stock>,
    private readonly transport: StockTransport,
    private readonly coalesceMs = 250,
  ) {}

  /** Notes that a deal's stock may have changed; the update follows within `coalesceMs`. */
  changed(dealId: string): void {
    if (this.scheduled.has(dealId)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(dealId);
      this.readStock(dealId)
        .then((stock) => this.transport.publish({ dealId, ...stock, at: Date.now() }))
        .catch(() => undefined);
    }, this.coalesceMs);
    timer.unref();
    this.scheduled.set(dealId, timer);
  }

  /** The deal's count now, stamped with the time it was read. */
  async current(dealId: string): Promise<StockUpdate> {
    return { dealId, ...(await this.readStock(dealId)), at: Date.now() };
  }

  /** Every update for the deal, from any instance, until the returned function is called. */
  listen(dealId: string, handler: (update: StockUpdate) => void): () => void {
    return this.transport.listen(dealId, handler);
  }

  /** Resolves once `listen`'s handlers receive every update published from then on. */
  listening(dealId: string): Promise<void> {
    return this.transport.listening(dealId);
  }

  close() {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.transport.close();
  }
}

export class LocalStockTransport implements StockTransport {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(update: StockUpdate) {
    this.emitter.emit(update.dealId, update);
  }

  listen(dealId: string, handler: (update: StockUpdate) => void) {
    this.emitter.on(dealId, handler);
    return () => this.emitter.off(dealId, handler);
  }

  async listening(): Promise<void> {}

  close() {
    this.emitter.removeAllListeners();
  }
}

/**
 * One Redis subscription per deal per instance, however many shoppers watch it; the
 * instance fans updates out to its own subscribers. On a Redis Cluster the cluster bus carries
 * a PUBLISH to subscribers on every node, so the channel needs no hash tag.
 */
export class RedisStockTransport implements StockTransport {
  private readonly subscriber: RedisClient;
  private readonly local = new LocalStockTransport();
  private readonly watchers = new Map<string, number>();
  /** The SUBSCRIBE of each watched deal, settled once Redis has confirmed it. */
  private readonly subscribed = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    this.subscriber = duplicateForSubscribing(redis);
    this.subscriber.on("message", (channel: string, message: string) => {
      const update = JSON.parse(message) as StockUpdate;
      if (channel === this.channel(update.dealId)) void this.local.publish(update);
    });
  }

  async publish(update: StockUpdate) {
    await this.redis.publish(this.channel(update.dealId), JSON.stringify(update));
  }

  listen(dealId: string, handler: (update: StockUpdate) => void) {
    const count = this.watchers.get(dealId) ?? 0;
    this.watchers.set(dealId, count + 1);
    if (count === 0) {
      this.subscribed.set(
        dealId,
        this.subscriber.subscribe(this.channel(dealId)).catch(() => undefined),
      );
    }
    const stopLocal = this.local.listen(dealId, handler);
    return () => {
      stopLocal();
      const left = (this.watchers.get(dealId) ?? 1) - 1;
      if (left > 0) {
        this.watchers.set(dealId, left);
      } else {
        this.watchers.delete(dealId);
        this.subscribed.delete(dealId);
        void this.subscriber.unsubscribe(this.channel(dealId));
      }
    };
  }

  async listening(dealId: string): Promise<void> {
    await this.subscribed.get(dealId);
  }

  close() {
    this.local.close();
    this.subscriber.disconnect();
  }

  private channel(dealId: string) {
    return `${this.keyPrefix}stock:${dealId}`;
  }
}

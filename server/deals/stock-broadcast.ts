import "server-only";
import { log } from "../log";
import type { StockFeed, StockUpdate } from "./stock-feed";

/** Where one viewer's bytes go: an HTTP response, or a web stream under `next dev`. */
export interface StockSink {
  /** Queues the bytes; false when the reader is behind (it then calls `drained` on its viewer). */
  write(chunk: Uint8Array): boolean;
}

/** One open live-stock stream, as its transport sees it. */
export interface StockViewer {
  /** The reader caught up after a write answered false: it gets the newest count, if it missed one. */
  drained(): void;
  /** The stream closed. Safe to call more than once. */
  leave(): void;
}

export interface StockBroadcastOptions {
  /** Viewers written per turn of the event loop, so claims on this process are not starved. */
  sliceSize?: number;
  /** How often an idle stream gets a comment line (and the count is read again). */
  heartbeatMs?: number;
}

const HEARTBEAT = Buffer.from(": keep-alive\n\n");

/** The frame every viewer of an update is sent: built once, written to each. */
export function stockFrame(update: StockUpdate): Buffer {
  const { dealId, remaining, quantity, at } = update;
  return Buffer.from(`data: ${JSON.stringify({ dealId, remaining, quantity, at })}\n\n`);
}

/**
 * Live stock for every viewer of every deal in this process: one broadcast per deal, with one
 * listener on the stock feed (so one Redis subscription) however many watch it. An update is
 * serialized once and written to each open stream, a slice of viewers per event-loop turn. A
 * reader whose write answered false is skipped, and on 'drain' gets only the newest count.
 * The broadcast ends, and its listener is dropped, when its last viewer leaves.
 */
export class StockBroadcasts {
  private readonly deals = new Map<string, DealBroadcast>();
  private readonly sliceSize: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly feed: StockFeed,
    options: StockBroadcastOptions = {},
  ) {
    this.sliceSize = options.sliceSize ?? 256;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  /** Whether the deal has viewers here, and so is known to exist. */
  watched(dealId: string): boolean {
    return this.deals.has(dealId);
  }

  /** Viewers open now, per deal. */
  viewers(): Map<string, number> {
    return new Map([...this.deals].map(([dealId, deal]) => [dealId, deal.size]));
  }

  /** Starts a stream: the current count at once (or as soon as it is read), then every change. */
  join(dealId: string, sink: StockSink): StockViewer {
    let deal = this.deals.get(dealId);
    if (!deal) {
      deal = new DealBroadcast(dealId, this.feed, this.sliceSize, this.heartbeatMs, (ended) => {
        if (this.deals.get(dealId) === ended) this.deals.delete(dealId);
      });
      this.deals.set(dealId, deal);
    }
    return deal.join(sink);
  }

  close() {
    for (const deal of this.deals.values()) deal.close();
    this.deals.clear();
  }
}

class Viewer implements StockViewer {
  /** The version of the deal's frame this viewer was last sent. */
  version = 0;
  behind = false;
  left = false;

  constructor(
    private readonly sink: StockSink,
    private readonly deal: DealBroadcast,
  ) {}

  write(chunk: Uint8Array) {
    this.behind = !this.sink.write(chunk);
  }

  drained = () => {
    this.behind = false;
    if (!this.left) this.deal.catchUp(this);
  };

  leave = () => {
    if (this.left) return;
    this.left = true;
    this.deal.remove(this);
  };
}

class DealBroadcast {
  private readonly viewers = new Set<Viewer>();
  private latest: StockUpdate | null = null;
  private frame: Buffer | null = null;
  /** Bumped with each new frame; a viewer with an older one is sent the current one. */
  private version = 0;
  private sending = false;
  private closed = false;
  private readonly stopListening: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly dealId: string,
    private readonly feed: StockFeed,
    private readonly sliceSize: number,
    heartbeatMs: number,
    private readonly onClose: (deal: DealBroadcast) => void,
  ) {
    this.stopListening = feed.listen(dealId, (update) => this.offer(update));
    this.readCount();
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
  }

  get size() {
    return this.viewers.size;
  }

  join(sink: StockSink): StockViewer {
    const viewer = new Viewer(sink, this);
    this.viewers.add(viewer);
    this.catchUp(viewer);
    return viewer;
  }

  catchUp(viewer: Viewer) {
    if (viewer.behind || viewer.version === this.version || !this.frame) return;
    viewer.version = this.version;
    viewer.write(this.frame);
  }

  remove(viewer: Viewer) {
    if (this.viewers.delete(viewer) && this.viewers.size === 0) this.close();
  }

  /** Once only: a transport counts its listeners, and a second stop would drop another's. */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.stopListening();
    this.onClose(this);
  }

  /** Takes an update if it is newer than the one held and changes the count. */
  private offer(update: StockUpdate): boolean {
    const held = this.latest;
    if (held && update.at < held.at) return false;
    if (held?.remaining === update.remaining && held.quantity === update.quantity) return false;
    this.latest = update;
    this.frame = stockFrame(update);
    this.version++;
    this.send();
    return true;
  }

  /**
   * Walks the viewers in slices. One walk at a time: a newer update during a walk reaches the
   * viewers not yet visited directly, and the others in one more walk.
   */
  private send() {
    if (this.sending) return;
    this.sending = true;
    const version = this.version;
    this.inSlices(
      (viewer) => this.catchUp(viewer),
      () => {
        this.sending = false;
        if (this.version !== version) this.send();
      },
    );
  }

  private inSlices(visit: (viewer: Viewer) => void, done: () => void) {
    const viewers = this.viewers.values();
    const slice = () => {
      for (let n = 0; n < this.sliceSize; n++) {
        const next = viewers.next();
        if (next.done) return done();
        visit(next.value);
      }
      setImmediate(slice);
    };
    slice();
  }

  /**
   * Keeps idle streams open through proxies, and reads the count again: a pub/sub message
   * lost while Redis reconnected would otherwise leave every viewer here on an old count.
   */
  private beat() {
    this.feed
      .current(this.dealId)
      .then((update) => {
        if (this.offer(update)) return;
        this.inSlices(
          (viewer) => {
            if (!viewer.behind) viewer.write(HEARTBEAT);
          },
          () => undefined,
        );
      })
      .catch((error: unknown) =>
        log.warn({ err: error, dealId: this.dealId }, "stock read failed"),
      );
  }

  private readCount() {
    this.feed
      .current(this.dealId)
      .then((update) => this.offer(update))
      .catch((error: unknown) =>
        log.warn({ err: error, dealId: this.dealId }, "stock read failed"),
      );
  }
}

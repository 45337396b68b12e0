import "server-only";

/** Calls `onTick` on every tick until the returned function is called. */
export type Ticker = (onTick: () => void) => () => void;

/** One tick a second, not keeping the process alive. */
export const everySecond: Ticker = (onTick) => {
  const timer = setInterval(onTick, 1_000);
  timer.unref();
  return () => clearInterval(timer);
};

type Frame<T> = { value: T } | { error: unknown };

/**
 * Values computed once per key per tick, for however many follow that key: the first
 * follower starts the key's producer (one computation at once, a tick that finds one running
 * is skipped) and the last one to leave stops it. A follower that is slow to read is given
 * only the newest value. A failed computation ends every follower of the key with its error,
 * as a follower computing for itself would have ended; the next follower starts afresh.
 */
export class SharedFeed<T> {
  private readonly producers = new Map<string, Producer<T>>();

  constructor(
    private readonly compute: (key: string) => Promise<T>,
    private readonly ticker: Ticker = everySecond,
  ) {}

  /** Keys with a producer running now. */
  get running(): number {
    return this.producers.size;
  }

  /** The key's values, the latest one first, until `signal` aborts or the caller stops. */
  async *follow(key: string, signal?: AbortSignal): AsyncGenerator<T> {
    if (signal?.aborted) return;
    let producer = this.producers.get(key);
    if (!producer) {
      producer = new Producer(key, this.compute, this.ticker, (ended) => {
        if (this.producers.get(key) === ended) this.producers.delete(key);
      });
      this.producers.set(key, producer);
    }
    const follower = producer.add();
    const leave = () => producer.remove(follower);
    signal?.addEventListener("abort", leave, { once: true });
    try {
      for (;;) {
        const frame = await follower.next();
        if (!frame) return;
        if ("error" in frame) throw frame.error;
        yield frame.value;
      }
    } finally {
      signal?.removeEventListener("abort", leave);
      leave();
    }
  }
}

class Producer<T> {
  private readonly followers = new Set<Follower<T>>();
  private latest: Frame<T> | null = null;
  private computing = false;
  private closed = false;
  private readonly stopTicking: () => void;

  constructor(
    private readonly key: string,
    private readonly compute: (key: string) => Promise<T>,
    ticker: Ticker,
    private readonly onClose: (producer: Producer<T>) => void,
  ) {
    this.stopTicking = ticker(() => this.run());
    this.run();
  }

  add(): Follower<T> {
    const follower = new Follower<T>();
    this.followers.add(follower);
    if (this.latest) follower.offer(this.latest);
    return follower;
  }

  remove(follower: Follower<T>) {
    follower.close();
    if (this.followers.delete(follower) && this.followers.size === 0) this.close();
  }

  private run() {
    if (this.computing || this.closed) return;
    this.computing = true;
    this.compute(this.key)
      .then(
        (value) => this.publish({ value }),
        (error: unknown) => {
          this.publish({ error });
          this.close();
        },
      )
      .finally(() => {
        this.computing = false;
      });
  }

  private publish(frame: Frame<T>) {
    if (this.closed) return;
    this.latest = frame;
    for (const follower of this.followers) follower.offer(frame);
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    this.stopTicking();
    this.onClose(this);
  }
}

/** One follower's mailbox: holds the newest frame it has not read yet. */
class Follower<T> {
  private unread: Frame<T> | null = null;
  private waiting: ((frame: Frame<T> | null) => void) | null = null;
  private closed = false;

  offer(frame: Frame<T>) {
    if (this.closed) return;
    if (this.waiting) {
      const wake = this.waiting;
      this.waiting = null;
      wake(frame);
    } else {
      this.unread = frame;
    }
  }

  /** The next frame, or null once the follower has left. */
  next(): Promise<Frame<T> | null> {
    const frame = this.unread;
    if (frame) {
      this.unread = null;
      return Promise.resolve(frame);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  close() {
    this.closed = true;
    this.unread = null;
    const wake = this.waiting;
    this.waiting = null;
    wake?.(null);
  }
}

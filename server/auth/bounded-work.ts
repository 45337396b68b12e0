import "server-only";
import { DomainError } from "../errors";

/**
 * Runs expensive jobs a few at a time, with a short queue behind them; a job that finds
 * the queue full is refused with RATE_LIMITED and a delay worth waiting, before it costs
 * anything. The delay comes from how long recent jobs took.
 */
export class BoundedWork {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  /** A moving average of how long one job takes, for the delay a refusal names. */
  private averageMs = 250;

  constructor(
    private readonly options: { inFlight: number; waiting: number; busyMessage: string },
  ) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.inFlight) {
      if (this.queue.length >= this.options.waiting) {
        const rounds = Math.ceil((this.queue.length + 1) / this.options.inFlight);
        throw new DomainError("RATE_LIMITED", this.options.busyMessage, {
          retryAfterMs: Math.max(100, Math.round(rounds * this.averageMs)),
        });
      }
      await new Promise<void>((start) => this.queue.push(start));
    } else {
      this.running++;
    }
    const started = performance.now();
    try {
      return await job();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - started);
      // The slot passes straight to the next job in line, so `running` never dips between.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}

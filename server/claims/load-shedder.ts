import "server-only";

export interface LoadShedderOptions {
  /** How long each judgement of the gate's health lasts. */
  intervalMs?: number;
  /** If even the fastest attempt of a whole interval took longer, attempts are queueing. */
  targetMs?: number;
  /** Attempts still let through while overloaded, so the shedder sees when it is over. */
  probes?: number;
  /** A hard cap on attempts waiting on the gate at once, whatever their latency. */
  maxInFlight?: number;
  clock?: () => number;
}

export interface Ticket {
  /** Reports how long the gate took to decide the admitted attempt (the first report counts). */
  timed(gateMs: number): void;
  /** The attempt is over (won, lost or failed): it no longer counts as in flight. */
  release(): void;
}

/**
 * Refuses claims at once when the gate is overloaded, instead of letting them queue until
 * they time out. The signal is CoDel's: a queue that never empties shows as a minimum
 * latency above target over a whole interval, or as no answer at all in an interval while
 * attempts admitted before it still wait (a stalled gate). A burst that drains, or a few slow
 * winners among fast losers, does not trip it. While overloaded, a few probes still go through.
 *
 * "No answer" counts only if the event loop turned during the interval: a burst admitted in
 * one long synchronous pass (thousands of attempts parsed in a row on a busy machine) has had
 * no chance to read the gate's answers yet, and that is not the gate's fault.
 */
export class LoadShedder {
  private readonly intervalMs: number;
  private readonly targetMs: number;
  private readonly probes: number;
  private readonly maxInFlight: number;
  private readonly clock: () => number;
  private inFlight = 0;
  private overloaded = false;
  private intervalEnds: number;
  private fastestInInterval = Number.POSITIVE_INFINITY;
  /** Attempts that were already waiting when the current interval began. */
  private waitingSinceIntervalStart = 0;
  /** Whether the event loop has polled for I/O (and so for answers) since the interval began. */
  private loopTurned = false;
  private loopWatched = false;
  private shedCount = 0;

  constructor(options: LoadShedderOptions = {}) {
    this.intervalMs = options.intervalMs ?? 200;
    this.targetMs = options.targetMs ?? 250;
    this.probes = options.probes ?? 32;
    this.maxInFlight = options.maxInFlight ?? 5_000;
    this.clock = options.clock ?? (() => performance.now());
    this.intervalEnds = this.clock() + this.intervalMs;
  }

  /** A ticket for an attempt that may go on, or null if it must be refused now. */
  admit(): Ticket | null {
    this.judge();
    this.watchLoop();
    const limit = this.overloaded ? this.probes : this.maxInFlight;
    if (this.inFlight >= limit) {
      this.shedCount++;
      return null;
    }
    this.inFlight++;
    let timed = false;
    let released = false;
    return {
      timed: (gateMs) => {
        if (timed) return;
        timed = true;
        if (gateMs < this.fastestInInterval) this.fastestInInterval = gateMs;
      },
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
      },
    };
  }

  /** How long a refused shopper should wait: 1 to 3 s, spread so they do not return together. */
  retryAfterMs(): number {
    return 1_000 + Math.floor(Math.random() * 2_000);
  }

  stats() {
    return { overloaded: this.overloaded, inFlight: this.inFlight, shed: this.shedCount };
  }

  /** At the end of each interval: overloaded if nothing came back under target in it. */
  private judge() {
    const now = this.clock();
    if (now < this.intervalEnds) return;
    // No answer in a whole interval although attempts waited through all of it, and the
    // event loop had the chance to read answers: the gate is stalled.
    const sawAnswers = this.fastestInInterval !== Number.POSITIVE_INFINITY;
    // Nothing waiting: whatever queue there was has drained (a new burst after a quiet spell
    // must not be judged by the answers of the last one).
    if (this.inFlight === 0) this.overloaded = false;
    else if (sawAnswers) this.overloaded = this.fastestInInterval > this.targetMs;
    else
      this.overloaded = this.waitingSinceIntervalStart > 0 && this.inFlight > 0 && this.loopTurned;
    this.fastestInInterval = Number.POSITIVE_INFINITY;
    this.intervalEnds = now + this.intervalMs;
    this.waitingSinceIntervalStart = this.inFlight;
    this.loopTurned = false;
  }

  /**
   * Notes a full turn of the event loop: an immediate runs after the current I/O poll, the
   * immediate it schedules after the next one, so by then answers that had arrived were read.
   */
  private watchLoop() {
    if (this.loopTurned || this.loopWatched) return;
    this.loopWatched = true;
    setImmediate(() =>
      setImmediate(() => {
        this.loopWatched = false;
        this.loopTurned = true;
      }),
    );
  }
}

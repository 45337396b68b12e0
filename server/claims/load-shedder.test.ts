import { describe, expect, it } from "vitest";
import { LoadShedder, type Ticket } from "./load-shedder";

/** A shedder on a hand-moved clock: 100 ms intervals, a 50 ms target, 4 probes, 10 at most. */
function shedder(maxInFlight = 10) {
  let now = 0;
  const shed = new LoadShedder({
    intervalMs: 100,
    targetMs: 50,
    probes: 4,
    maxInFlight,
    clock: () => now,
  });
  return {
    shed,
    advance: (ms: number) => {
      now += ms;
    },
    /** One attempt that took `ms` at the gate. */
    attempt(ms: number) {
      const ticket = shed.admit();
      ticket?.timed(ms);
      ticket?.release();
      return ticket !== null;
    },
  };
}

/** Lets the event loop poll for I/O twice, as the shedder requires before it sees a stall. */
async function loopTurns() {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** An attempt that took `gateMs` at the gate and is over. */
function done(ticket: Ticket | null, gateMs: number) {
  ticket?.timed(gateMs);
  ticket?.release();
}

describe("LoadShedder", () => {
  it("admits everything while the gate answers fast", () => {
    const s = shedder();
    for (let i = 0; i < 1_000; i++) {
      expect(s.attempt(i % 7 === 0 ? 400 : 2)).toBe(true); // a slow answer now and then
      s.advance(1);
    }
  });

  it("sheds once even the fastest answer of an interval was slow, and admits again when it is fast", () => {
    const s = shedder();
    const waiting = s.shed.admit(); // a standing queue: always one attempt waiting...
    for (let i = 0; i < 20; i++) {
      s.attempt(80); // ...and nothing came back under 50 ms
      s.advance(10);
    }
    // Overloaded: only the probes get through; the rest are refused at once.
    const held = Array.from({ length: 3 }, () => s.shed.admit());
    expect(held.every((ticket) => ticket !== null)).toBe(true);
    expect(s.shed.admit()).toBeNull();
    expect(s.shed.stats()).toMatchObject({ overloaded: true, shed: 1 });
    // The probes come back fast: after a full interval the gate is healthy again.
    for (const ticket of held) done(ticket, 3);
    s.advance(100);
    s.attempt(3);
    s.advance(1);
    expect(s.shed.stats().overloaded).toBe(false);
    expect(s.attempt(3)).toBe(true);
    done(waiting, 3);
  });

  it("sheds when the gate answers nothing for a whole interval while attempts wait", async () => {
    const s = shedder();
    const stuck = Array.from({ length: 6 }, () => s.shed.admit());
    s.advance(100);
    expect(s.shed.admit()).not.toBeNull(); // they were admitted in this interval: not a stall yet
    await loopTurns();
    s.advance(100);
    expect(s.shed.admit()).toBeNull(); // 7 waited a whole interval: more than the 4 probes
    expect(s.shed.stats().overloaded).toBe(true);
    // They come back slow: still overloaded, and only probes go through.
    for (const ticket of stuck) done(ticket, 150);
    s.advance(100);
    expect(s.shed.admit()).not.toBeNull();
    expect(s.shed.stats().overloaded).toBe(true);
  });

  it("does not call a burst admitted in one long synchronous pass a stall", async () => {
    // Each admission "takes" 1 ms of a slow machine: the pass spans many intervals, and no
    // answer can be read before it ends, so none of them may be refused.
    const s = shedder(10_000);
    const admitted = Array.from({ length: 3_000 }, () => {
      s.advance(1);
      return s.shed.admit();
    });
    expect(admitted.filter((ticket) => ticket === null)).toHaveLength(0);
    expect(s.shed.stats()).toMatchObject({ overloaded: false, shed: 0 });
    // Once the loop has turned and a whole interval passed with no answer, it is a stall.
    await loopTurns();
    s.advance(100);
    s.shed.admit();
    await loopTurns();
    s.advance(100);
    expect(s.shed.admit()).toBeNull();
  });

  it("judges a new burst afresh once the last one has drained, however slow its answers were", () => {
    const s = shedder();
    const waiting = s.shed.admit();
    for (let i = 0; i < 20; i++) {
      s.attempt(80); // a standing queue: overloaded once the interval is judged
      s.advance(10);
    }
    expect(s.shed.stats().overloaded).toBe(true);
    done(waiting, 80);
    s.advance(5_000); // quiet: everything answered, nothing in flight
    const burst = Array.from({ length: 10 }, () => s.shed.admit());
    expect(burst.every((ticket) => ticket !== null)).toBe(true);
    expect(s.shed.stats()).toMatchObject({ overloaded: false, shed: 0 });
  });

  it("counts an attempt in flight until it is over, though its gate time was reported earlier", () => {
    const s = shedder();
    const held = Array.from({ length: 10 }, () => s.shed.admit());
    for (const ticket of held) ticket?.timed(1); // decided fast, still writing to Postgres
    expect(s.shed.admit()).toBeNull();
    held[0]?.release();
    expect(s.shed.admit()).not.toBeNull();
  });

  it("never holds more than maxInFlight attempts, however fast they are", () => {
    const s = shedder();
    const held = Array.from({ length: 10 }, () => s.shed.admit());
    expect(held.every((ticket) => ticket !== null)).toBe(true);
    expect(s.shed.admit()).toBeNull();
    done(held[0] ?? null, 1);
    expect(s.shed.admit()).not.toBeNull();
  });

  it("gives a retry delay with jitter, so refused shoppers do not all return at once", () => {
    const s = shedder();
    const delays = new Set(Array.from({ length: 50 }, () => s.shed.retryAfterMs()));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(1_000);
      expect(delay).toBeLessThanOrEqual(3_000);
    }
  });
});

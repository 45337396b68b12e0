import type { ClaimDecider } from "@/server/claims/claim-engine";
import type { Attempt } from "./attempt-plan";
import { percentile } from "./report";

export interface RunOptions {
  design: string;
  engine: ClaimDecider;
  dealId: string;
  plan: Attempt[];
  userIds: string[];
  concurrency: number;
  seconds: number;
  /** How long in-flight attempts may take to settle once issuing stops. */
  drainMs: number;
}

export interface RunStats {
  issued: number;
  decided: number;
  errors: number;
  /** Issued but unsettled when the drain timed out: counted as errors, not decisions. */
  abandoned: number;
  elapsedMs: number;
  attemptsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Fresh wins (a replayed WON is counted under WON_REPLAY). */
  won: number;
  outcomes: Record<string, number>;
  errorSamples: Record<string, number>;
}

const PROGRESS_EVERY_MS = 2_000;

/**
 * Keeps `concurrency` attempts in flight until the plan is done or the time is up. Latency
 * is measured per attempt around `claim`, so it includes waiting for a pool connection or a
 * lock: that wait is what a shopper feels.
 */
export async function runAttempts(options: RunOptions): Promise<RunStats> {
  const { plan } = options;
  const latencies = new Float64Array(plan.length);
  const outcomes: Record<string, number> = {};
  const errorSamples: Record<string, number> = {};
  let next = 0;
  let decided = 0;
  let errors = 0;
  let settled = 0;

  const started = performance.now();
  const stopIssuingAt = started + options.seconds * 1_000;
  let lastTick = { at: started, settled: 0 };
  const progress = setInterval(() => {
    const now = performance.now();
    const rate = ((settled - lastTick.settled) * 1_000) / (now - lastTick.at);
    lastTick = { at: now, settled };
    process.stderr.write(
      `[${options.design}] ${settled}/${plan.length} attempts, ${Math.round(rate)}/s, ` +
        `${errors} errors, ${((now - started) / 1_000).toFixed(0)}s\n`,
    );
  }, PROGRESS_EVERY_MS);

  const worker = async () => {
    while (next < plan.length && performance.now() < stopIssuingAt) {
      const attempt = plan[next++] as Attempt;
      const request = {
        dealId: options.dealId,
        userId: options.userIds[attempt.userIndex] as string,
        idempotencyKey: attempt.idempotencyKey,
        now: new Date(),
      };
      const t0 = performance.now();
      try {
        const result = await options.engine.claim(request);
        latencies[decided++] = performance.now() - t0;
        const label = result.outcome === "WON" && result.replayed ? "WON_REPLAY" : result.outcome;
        outcomes[label] = (outcomes[label] ?? 0) + 1;
      } catch (error) {
        errors++;
        const message = error instanceof Error ? error.message : String(error);
        const key = message.slice(0, 120);
        errorSamples[key] = (errorSamples[key] ?? 0) + 1;
      }
      settled++;
    }
  };

  let drainTimer: NodeJS.Timeout | undefined;
  const drainDeadline = new Promise<"timeout">((resolve) => {
    drainTimer = setTimeout(() => resolve("timeout"), options.seconds * 1_000 + options.drainMs);
  });
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
  try {
    await Promise.race([workers, drainDeadline]);
  } finally {
    clearInterval(progress);
    clearTimeout(drainTimer);
  }
  const elapsedMs = performance.now() - started;

  const abandoned = next - settled;
  const sorted = latencies.slice(0, decided).sort();
  return {
    issued: next,
    decided,
    errors: errors + abandoned,
    abandoned,
    elapsedMs,
    attemptsPerSec: (decided * 1_000) / elapsedMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    won: outcomes.WON ?? 0,
    outcomes,
    errorSamples,
  };
}

/**
 * Shoppers who arrive while a server is already busy: one new claim every `everyMs`, sent
 * whether or not the earlier ones were answered (an open loop, unlike wrk's connections,
 * which each wait for their answer before asking again and so cannot show what happens to
 * newcomers). Each arrival is timed from its own start and labelled with its phase.
 */
import { postClaim } from "@/lib/claims/claim-client";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { SESSION_COOKIE } from "@/server/auth/session";
import { percentile } from "./report";

export interface Arrival {
  /** When it was sent, in ms from the start of the run. */
  sentAtMs: number;
  latencyMs: number;
  /** HTTP status, or 0 if it got no answer within the timeout. */
  status: number;
  /** The retry delay a refusal named (also sent as Retry-After). */
  retryAfterMs: number | null;
}

export interface PhaseSummary {
  arrivals: number;
  byStatus: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const ANSWER_TIMEOUT_MS = 10_000;

export async function sendArrivals(options: {
  baseUrl: string;
  dealId: string;
  /** Session tokens, one per arriving shopper (used in turn). */
  tokens: string[];
  everyMs: number;
  durationMs: number;
}): Promise<Arrival[]> {
  const startedAt = performance.now();
  const pending: Promise<Arrival>[] = [];
  for (let n = 0; performance.now() - startedAt < options.durationMs; n++) {
    pending.push(arrive(options, options.tokens[n % options.tokens.length] ?? "", startedAt, n));
    const nextAt = startedAt + (n + 1) * options.everyMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextAt - performance.now())));
  }
  return Promise.all(pending);
}

async function arrive(
  options: { baseUrl: string; dealId: string },
  token: string,
  runStartedAt: number,
  n: number,
): Promise<Arrival> {
  const sentAt = performance.now();
  const done = (status: number, retryAfterMs: number | null): Arrival => ({
    sentAtMs: sentAt - runStartedAt,
    latencyMs: performance.now() - sentAt,
    status,
    retryAfterMs,
  });
  try {
    await postClaim(
      { dealId: options.dealId, idempotencyKey: `arrival-${n}` },
      {
        baseUrl: options.baseUrl,
        headers: {
          cookie: `${SESSION_COOKIE}=${token}`,
          "x-forwarded-for": `10.77.${(n >> 8) & 255}.${n & 255}`,
        },
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      },
    );
    return done(200, null);
  } catch (error) {
    if (!(error instanceof ApiRequestError)) return done(0, null);
    return done(error.status, error.error.retryAfterMs ?? null);
  }
}

/** Arrivals sent in [fromMs, toMs), summarised. */
export function summarise(arrivals: Arrival[], fromMs: number, toMs: number): PhaseSummary {
  const phase = arrivals.filter((a) => a.sentAtMs >= fromMs && a.sentAtMs < toMs);
  const latencies = phase.map((a) => a.latencyMs).sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? 0 : percentile(latencies, q));
  const byStatus: Record<string, number> = {};
  for (const a of phase)
    byStatus[a.status || "no answer"] = (byStatus[a.status || "no answer"] ?? 0) + 1;
  return { arrivals: phase.length, byStatus, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

/** What the HTTP bench needs beyond the shared process helpers (testing/processes.ts). */
import { spawn } from "node:child_process";

/** Runs a command to its end, its output passed through; throws on a non-zero exit. */
export function runToEnd(command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: "inherit" });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}`)),
    );
  });
}

/**
 * Node flags for every server the bench starts, the ceiling included: the ones package.json's
 * start scripts use (a larger young generation: see README, "Speed").
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=64"];

/** The session secret of every server the bench starts, so the bench can sign shoppers in. */
export const BENCH_SESSION_SECRET = "bench-session-secret-that-is-long-enough-0123456789";

/**
 * TRUSTED_PROXIES of every server the bench starts: the bench's crowd sends from loopback,
 * each shopper's address in X-Forwarded-For, as a crowd behind one proxy hop arrives.
 */
export const BENCH_TRUSTED_PROXIES = "127.0.0.1";

/** The metrics token the bench gives every server it starts. */
export const BENCH_METRICS_TOKEN = "bench-metrics-token-0123456789";

/** The Prometheus text of a server the bench started. */
export async function scrapeMetrics(baseUrl: string): Promise<string> {
  const response = await fetch(new URL("/api/metrics", baseUrl), {
    headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${baseUrl}/api/metrics answered ${response.status}`);
  return response.text();
}

/** Claim outcomes counted by a server the bench started. */
export async function attemptCounts(baseUrl: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await scrapeMetrics(baseUrl)).split("\n")) {
    const match = /^dealdrop_claim_attempts_total\{outcome="(\w+)"\} (\d+)/.exec(line);
    if (match?.[1] && match[2]) counts.set(match[1], Number(match[2]));
  }
  return counts;
}

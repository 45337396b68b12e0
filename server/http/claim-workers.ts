import "server-only";
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type PrometheusContentType } from "prom-client";
import { log } from "../log";

/**
 * The claim server on more than one core (`CLAIM_WORKERS`). A Node process runs its
 * JavaScript on one core, so on N cores the claim server runs as a primary and N workers
 * (node:cluster) sharing one listening port. Each worker is a whole claim server with its
 * own Redis and Postgres connections, exactly as N instances behind a proxy would be
 * (server/scale/two-instances.test.ts): the gate in Redis and the rows in Postgres keep
 * every invariant whichever worker answers. The primary only accepts connections and hands
 * them round-robin to the workers.
 *
 * - A worker that crashes is replaced. One that dies before it ever listened stops the
 *   server instead: a configuration or startup error would only repeat.
 * - SIGTERM or SIGINT to the primary stops every worker (each drains as a lone claim server
 *   does: graceful-stop.ts), then the primary; a worker still running after `stopGraceMs`
 *   (the longest a graceful stop takes) is killed.
 * - `/api/metrics` on any worker answers for all of them: the worker asks the primary,
 *   which collects every worker's registry (prom-client's AggregatorRegistry) and sums them.
 */

const METRICS_TIMEOUT_MS = 5_000;
const ASK_METRICS = "dealdrop:ask-metrics";
const METRICS = "dealdrop:metrics";

interface MetricsAsk {
  type: typeof ASK_METRICS;
  id: number;
}

interface MetricsAnswer {
  type: typeof METRICS;
  id: number;
  body?: string;
  error?: string;
}

/** The primary: starts `count` workers running this same script and keeps them running. */
export function runClaimWorkers(count: number, stopGraceMs: number): void {
  const aggregator = new AggregatorRegistry<PrometheusContentType>();
  const workers = new Set<Worker>();
  let stopping = false;

  const start = () => {
    const worker = cluster.fork();
    workers.add(worker);
    let listening = false;
    worker.once("listening", () => {
      listening = true;
    });
    worker.on("message", (message: unknown) => {
      if (isMessage<MetricsAsk>(message, ASK_METRICS)) {
        void collectMetrics(aggregator).then((answer) => {
          // The asker may have died meanwhile; sending to it then would throw.
          if (worker.isConnected()) {
            worker.send({ type: METRICS, id: message.id, ...answer } satisfies MetricsAnswer);
          }
        });
      }
    });
    worker.once("exit", (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      const pid = worker.process.pid;
      if (!listening) {
        log.fatal({ pid, code, signal }, "a claim worker stopped before it listened");
        stop(1);
      } else if (code !== 0 || signal) {
        log.error({ pid, code, signal }, "a claim worker died; starting another");
        start();
      } else if (workers.size === 0) {
        // Every worker stopped cleanly on its own (a Ctrl-C reaches the whole process group).
        process.exit(0);
      }
    });
  };

  const stop = (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    if (workers.size === 0) process.exit(exitCode);
    const killer = setTimeout(() => {
      for (const worker of workers) worker.process.kill("SIGKILL");
    }, stopGraceMs);
    for (const worker of workers) {
      worker.once("exit", () => {
        if (workers.size > 0) return;
        clearTimeout(killer);
        process.exit(exitCode);
      });
      worker.process.kill("SIGTERM");
    }
  };

  for (let i = 0; i < count; i++) start();
  log.info(`Claim server: ${count} workers`);
  process.once("SIGTERM", () => stop(0));
  process.once("SIGINT", () => stop(0));
}

async function collectMetrics(aggregator: AggregatorRegistry<PrometheusContentType>) {
  try {
    return { body: await aggregator.clusterMetrics() };
  } catch (error) {
    return { error: String(error) };
  }
}

const waitingForMetrics = new Map<number, (answer: MetricsAnswer) => void>();
let metricsAsked = 0;

/** A worker: answers the primary's requests for metrics and takes its answers to ours. */
export function joinClaimWorkers(reportMetrics: () => void): void {
  reportMetrics();
  process.on("message", (message: unknown) => {
    if (isMessage<MetricsAnswer>(message, METRICS)) waitingForMetrics.get(message.id)?.(message);
  });
}

/** In a worker: every worker's metrics, summed by the primary, as Prometheus text. */
export function clusterMetrics(): Promise<{ contentType: string; body: string }> {
  const id = ++metricsAsked;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waitingForMetrics.delete(id);
      reject(new Error(`the primary did not send metrics within ${METRICS_TIMEOUT_MS} ms`));
    }, METRICS_TIMEOUT_MS);
    waitingForMetrics.set(id, (answer) => {
      clearTimeout(timer);
      waitingForMetrics.delete(id);
      if (answer.body === undefined) reject(new Error(answer.error ?? "no metrics"));
      else resolve({ contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE, body: answer.body });
    });
    process.send?.({ type: ASK_METRICS, id } satisfies MetricsAsk);
  });
}

function isMessage<T extends { type: string }>(message: unknown, type: T["type"]): message is T {
  return (
    typeof message === "object" && message !== null && "type" in message && message.type === type
  );
}

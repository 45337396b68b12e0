import "server-only";
import type { Env } from "../env";
import { log } from "../log";
import type { Services } from "../services";
import type { EdgeServer } from "./http-edge";

/**
 * How long settling the winners may take once the requests are done: a winner's write ends
 * within Postgres's statement timeout (10 s, db/client.ts) or fails and gives its unit back.
 */
const SETTLE_TIMEOUT_MS = 15_000;

/** The longest a graceful stop takes: what a supervisor (claim-workers.ts) waits before a kill. */
export function gracefulStopMs(env: Pick<Env, "DRAIN_TIMEOUT_MS">): number {
  return env.DRAIN_TIMEOUT_MS + SETTLE_TIMEOUT_MS + 5_000;
}

/**
 * Stops a server on SIGTERM or SIGINT, in this order:
 *  1. stop accepting connections; `/readyz` answers "draining" (RequestDrain);
 *  2. let the requests in hand finish, for up to DRAIN_TIMEOUT_MS; streams end at once, and
 *     their readers reconnect elsewhere; what is left at the deadline is cut;
 *  3. settle every winner still being written (Services.settle: the group commit flushed, each
 *     pending mark cleared or its unit given back), so no answered "won" lacks its row and no
 *     grant is left for the reconciler;
 *  4. close the pools (Services.stop), then whatever else `closeMore` closes (Next).
 * Exits 0 when all of it happened, 1 when a step failed or winners were left unsettled.
 */
export function stopGracefullyOnSignals(
  server: EdgeServer,
  services: Services,
  closeMore: () => Promise<void> = async () => {},
): void {
  let stopping = false;
  let interrupted = false;
  const stop = async (signal: string) => {
    // A Ctrl-C reaches a claim worker directly and again through its primary's SIGTERM.
    if (stopping) return;
    stopping = true;
    const deadlineMs = services.env.DRAIN_TIMEOUT_MS;
    log.info(`${signal}: draining (requests in hand have ${deadlineMs} ms to finish)`);
    let exitCode = 0;
    try {
      const drained = await server.drain(deadlineMs);
      if (drained.cut > 0) log.warn({ drained }, "the drain deadline passed: requests were cut");
      if (!(await settledWithin(services.settle(), SETTLE_TIMEOUT_MS))) {
        log.error(`winners were still being written after ${SETTLE_TIMEOUT_MS} ms`);
        exitCode = 1;
      }
      await services.stop();
      await closeMore();
      log.info({ drained }, "stopped");
    } catch (error) {
      log.error({ err: error }, "the graceful stop failed");
      exitCode = 1;
    }
    process.exit(exitCode);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => {
    // A second Ctrl-C while stopping: the person at the terminal does not want to wait.
    if (stopping && interrupted) process.exit(1);
    interrupted = true;
    void stop("SIGINT");
  });
}

async function settledWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

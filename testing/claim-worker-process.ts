import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import type { faultEnv } from "./fault-sale";

const WORKER_SCRIPT = path.join(import.meta.dirname, "claim-worker.ts");

export interface ClaimWorkerTally {
  ready: boolean;
  done: boolean;
  answers: number;
  /** Answers by outcome (WON, SOLD_OUT, ALREADY_CLAIMED, ERROR, ...). */
  outcomes: Record<string, number>;
  errors: string[];
}

export interface ClaimWorker {
  readonly tally: ClaimWorkerTally;
  /** Resolves when `condition` holds for the tally; rejects if the worker dies or time runs out. */
  until(
    what: string,
    condition: (tally: ClaimWorkerTally) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** kill -9, as a crash: resolves once the process is gone. Safe to call on a dead worker. */
  kill(): Promise<void>;
  /** Resolves with the exit code once the worker has ended by itself. */
  exited(): Promise<number | null>;
}

/**
 * Starts claim-worker.ts as a child process, with the app's environment and the deal to
 * claim. The PID held is the worker's own (node runs it directly, with tsx as a loader),
 * so a SIGKILL hits the instance itself and leaves nothing running.
 */
export function startClaimWorker(options: {
  env: ReturnType<typeof faultEnv>;
  dealId: string;
  concurrency: number;
}): ClaimWorker {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=react-server", "--import", "tsx", WORKER_SCRIPT],
    {
      cwd: path.join(import.meta.dirname, ".."),
      env: {
        PATH: process.env.PATH ?? "",
        ...options.env,
        WORKER_DEAL_ID: options.dealId,
        WORKER_CONCURRENCY: String(options.concurrency),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // Should the test process die first, the worker must not outlive it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exit = once(child, "exit").then(([code]) => {
    process.removeListener("exit", killOnExit);
    return code as number | null;
  });

  const tally: ClaimWorkerTally = {
    ready: false,
    done: false,
    answers: 0,
    outcomes: {},
    errors: [],
  };
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const message = JSON.parse(line) as {
      ready?: boolean;
      done?: boolean;
      outcome?: string;
      error?: string;
      fatal?: string;
    };
    if (message.ready) tally.ready = true;
    if (message.done) tally.done = true;
    if (message.fatal) tally.errors.push(message.fatal);
    if (message.outcome) {
      tally.answers++;
      tally.outcomes[message.outcome] = (tally.outcomes[message.outcome] ?? 0) + 1;
      if (message.error && tally.errors.length < 20) tally.errors.push(message.error);
    }
  });

  return {
    tally,
    async until(what, condition, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition(tally)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `the claim worker ended before ${what}: ${tally.errors.join("; ")}\n${stderr}`,
          );
        }
        if (Date.now() > deadline) {
          throw new Error(`gave up after ${timeoutMs} ms waiting for the claim worker: ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exit;
    },
    exited: () => exit,
  };
}

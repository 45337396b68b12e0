/** Child processes that tests and benchmarks start, and always stop: servers, workers. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A free loopback port, from the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface Running {
  child: ChildProcess;
  /** The last lines it wrote, for the error when it dies. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-lived process; `stop` sends SIGTERM, then SIGKILL after 5 s. */
export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Running {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return {
    child,
    output: () => tail,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** Polls `url` until it answers (any status), or fails after `timeoutMs` or if `running` dies. */
export async function waitForHttp(url: string, running: Running, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) {
      throw new Error(`${url}: the server exited:\n${running.output()}`);
    }
    const answered = await fetch(url).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${running.output()}`);
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"]).toString());

/** A process's parent and the CPU seconds (user + system) it has used, from /proc (Linux). */
function procStat(pid: number): { parent: number; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name: state, ppid, …; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { parent: Number(fields[1]), cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
  } catch {
    return null; // it ended while we looked
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number | undefined): number {
  return (pid && procStat(pid)?.cpuSeconds) ?? Number.NaN;
}

/** CPU seconds a process and its children (a cluster's workers, say) have used so far. */
export function processTreeCpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  let total = cpuSeconds(pid);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const child = procStat(Number(entry));
    if (child?.parent === pid) total += child.cpuSeconds;
  }
  return total;
}

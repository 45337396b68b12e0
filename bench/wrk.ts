/** Runs wrk (the Debian package) with bench/wrk/claim.lua and reads its result line. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./wrk/claim.lua", import.meta.url));

export interface WrkResult {
  requests: number;
  durationUs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  /** Answers with a status outside 2xx/3xx. */
  non2xx: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** Answers whose body said WON. */
  won: number;
  /** 503s answered before the thread saw its first SOLD_OUT (bench/wrk/claim.lua). */
  shedWhileStock: number;
}

export interface WrkRun {
  baseUrl: string;
  dealId: string;
  tokensFile: string;
  connections: number;
  threads: number;
  seconds: number;
  path?: string;
}

/** One bounded wrk run: it stops after `seconds`, each request times out after 10 s. */
export function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    `${run.baseUrl}${run.path ?? "/api/claim"}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, {
      env: {
        ...process.env,
        CLAIM_TOKENS: run.tokensFile,
        CLAIM_DEAL: run.dealId,
        CLAIM_THREADS: String(run.threads),
        CLAIM_PATH: run.path ?? "/api/claim",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (error) =>
      reject(new Error(`wrk could not start (apt-get install -y wrk): ${error.message}`)),
    );
    child.once("exit", (code) => {
      const line = output.split("\n").find((l) => l.startsWith("WRK_RESULT "));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}:\n${output}`));
      resolve(JSON.parse(line.slice("WRK_RESULT ".length)) as WrkResult);
    });
  });
}

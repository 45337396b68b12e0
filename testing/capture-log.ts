import pino from "pino";
import { log } from "@/server/log";

/** Runs `work` with the app's logger at debug, writing into an array instead of stdout. */
export async function captureLog(work: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const logger = log as unknown as Record<symbol, unknown>;
  const stream = logger[pino.symbols.streamSym];
  const level = log.level;
  logger[pino.symbols.streamSym] = { write: (line: string) => lines.push(JSON.parse(line)) };
  log.level = "debug";
  try {
    await work();
  } finally {
    logger[pino.symbols.streamSym] = stream;
    log.level = level;
  }
  return lines;
}

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunStats } from "./run-attempts";

/** One design's row of `npm run bench:gate`: its run's numbers and what Postgres holds after. */
export interface Scenario extends Omit<RunStats, "abandoned"> {
  design: string;
  letter: string;
  sold: number;
  oversold: number;
  duplicateClaims: number;
  /** Decisions per second of the Redis gate divided by this design's ("a/c = 14.2x"). */
  ratioToRedisGate: number;
  /** SQL statements the engine sent per attempt (drizzle's log, so BEGIN/COMMIT excluded). */
  sqlPerAttempt: number;
  dealSoldCounter: number;
  problems: string[];
}

const COLUMNS: [string, (s: Scenario) => string][] = [
  ["design", (s) => `(${s.letter}) ${s.design}`],
  ["decisions/s", (s) => s.attemptsPerSec.toFixed(0)],
  ["p50 ms", (s) => s.p50Ms.toFixed(2)],
  ["p99 ms", (s) => s.p99Ms.toFixed(2)],
  ["won", (s) => String(s.won)],
  ["sold", (s) => String(s.sold)],
  ["oversold", (s) => String(s.oversold)],
  ["duplicate claims", (s) => String(s.duplicateClaims)],
  ["errors", (s) => String(s.errors)],
  ["decided", (s) => `${s.decided}/${s.issued}`],
  ["vs (a)", (s) => `a/${s.letter} = ${s.ratioToRedisGate.toFixed(1)}x`],
];

export function formatTable(scenarios: Scenario[]): string {
  const cells = [
    COLUMNS.map(([title]) => title),
    ...scenarios.map((s) => COLUMNS.map(([, cell]) => cell(s))),
  ];
  const widths = COLUMNS.map((_, column) =>
    Math.max(...cells.map((row) => (row[column] ?? "").length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join("  ");
  const [header = [], ...body] = cells;
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** Writes the run to bench/results (git-ignored) and answers the file's path. */
export function writeResults(report: Record<string, unknown>, name = "gate"): string {
  const folder = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(folder, { recursive: true });
  const stamp = new Date().toISOString().replaceAll(":", "-");
  const file = path.join(folder, `${name}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** A positive whole number from the environment, or the fallback when unset. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}

/**
 * Nearest-rank percentile (`p` from 0 to 1) of an ascending list: the value at or below which
 * that share of the list lies. Every bench figure uses it, so their p50s and p99s compare.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}

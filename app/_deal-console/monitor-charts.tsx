"use client";

import { OUTCOME_GROUPS, type OutcomeGroup, outcomesIn } from "@/lib/claims/claim-outcomes";
import type { SecondStats } from "./console-types";
import { type LegendItem, type Plot, TimeChart } from "./time-chart";

type Outcome = keyof SecondStats["attempts"];

const GROUP_COLORS: Record<OutcomeGroup, string> = {
  won: "#1a7f37",
  soldOut: "#8c959f",
  held: "#d4a72c",
  rateLimited: "#cf222e",
  notOpen: "#54aeff",
  outOfArea: "#8250df",
  shed: "#bc4c00",
  failed: "#1f2328",
};

/** The outcome table's groups (lib/claims/claim-outcomes.ts) as the attempts chart stacks them. */
const OUTCOME_LEGEND: (LegendItem & { outcomes: Outcome[] })[] = (
  Object.keys(OUTCOME_GROUPS) as OutcomeGroup[]
).map((group) => ({
  ...OUTCOME_GROUPS[group],
  color: GROUP_COLORS[group],
  outcomes: outcomesIn(group),
}));

const countOf = (second: SecondStats, outcomes: Outcome[]) =>
  outcomes.reduce((sum, outcome) => sum + (second.attempts[outcome] ?? 0), 0);

const clock = (t: number) => new Date(t * 1_000).toLocaleTimeString();

function windowOf(seconds: SecondStats[], now: number) {
  return {
    from: seconds[0]?.t ?? now - 89,
    to: seconds.at(-1)?.t ?? now,
  };
}

/** Attempts per second, stacked by outcome. */
export function AttemptsChart({ seconds, now }: { seconds: SecondStats[]; now: number }) {
  const peak = Math.max(5, ...seconds.map((second) => second.total));
  const last = seconds.at(-1);
  return (
    <TimeChart
      {...windowOf(seconds, now)}
      title="Attempts per second, by outcome"
      testId="monitor-chart-attempts"
      yMax={peak}
      yUnit="attempts / s"
      legend={OUTCOME_LEGEND}
      height={200}
      summary={
        last
          ? `Claim attempts over the last ${seconds.length} seconds; the latest second had ${last.total}, ${last.attempts.WON ?? 0} won.`
          : "No attempts yet."
      }
      draw={(plot) =>
        seconds.map((second) => <AttemptBar key={second.t} second={second} plot={plot} />)
      }
    />
  );
}

function AttemptBar({ second, plot }: { second: SecondStats; plot: Plot }) {
  if (second.total === 0) return null;
  const gap = plot.slot > 4 ? 1 : 0;
  let base = 0;
  const parts = OUTCOME_LEGEND.map((group) => ({
    group,
    n: countOf(second, group.outcomes),
  })).filter((part) => part.n > 0);
  return (
    <g>
      <title>
        {`${clock(second.t)}: ${second.total} attempts — ${parts
          .map((part) => `${part.n} ${part.group.label.toLowerCase()}`)
          .join(", ")}`}
      </title>
      {parts.map(({ group, n }) => {
        const y0 = plot.y(base);
        base += n;
        const y1 = plot.y(base);
        return (
          <rect
            key={group.label}
            x={plot.x(second.t) + gap / 2}
            width={Math.max(1, plot.slot - gap)}
            y={y1}
            height={Math.max(0, y0 - y1)}
            fill={group.color}
          />
        );
      })}
    </g>
  );
}

/** A line through the points that have a value; gaps where a second had none. */
function linePath(points: { x: number; y: number | null }[]) {
  let path = "";
  let drawing = false;
  for (const { x, y } of points) {
    if (y === null) {
      drawing = false;
      continue;
    }
    path += `${drawing ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    drawing = true;
  }
  return path;
}

const LATENCY_LINES = [
  { key: "p50Ms", label: "p50", color: "#0969da" },
  { key: "p99Ms", label: "p99", color: "#e8590c" },
] as const;

/** Median and 99th percentile latency of claim attempts, second by second. */
export function LatencyChart({ seconds, now }: { seconds: SecondStats[]; now: number }) {
  const peak = Math.max(10, ...seconds.map((second) => second.p99Ms ?? 0));
  const lastP99 = seconds.findLast((second) => second.p99Ms !== null)?.p99Ms;
  return (
    <TimeChart
      {...windowOf(seconds, now)}
      title="Claim latency"
      testId="monitor-chart-latency"
      yMax={peak}
      yUnit="ms"
      legend={LATENCY_LINES.map((line) => ({ label: line.label, color: line.color }))}
      summary={
        lastP99 == null
          ? "No latency measured yet."
          : `Claim latency over the last ${seconds.length} seconds; the latest p99 is ${lastP99} ms.`
      }
      draw={(plot) =>
        LATENCY_LINES.map((line) => {
          const points = seconds.map((second) => ({
            x: plot.x(second.t) + plot.slot / 2,
            y: second[line.key] === null ? null : plot.y(second[line.key] ?? 0),
          }));
          return (
            <g key={line.key}>
              <path d={linePath(points)} fill="none" stroke={line.color} strokeWidth={2} />
              {points.map((point, i) =>
                point.y === null ? null : (
                  <circle key={seconds[i]?.t} cx={point.x} cy={point.y} r={2} fill={line.color}>
                    <title>{`${clock(seconds[i]?.t ?? 0)}: ${line.label} ≤ ${seconds[i]?.[line.key]} ms`}</title>
                  </circle>
                ),
              )}
            </g>
          );
        })
      }
    />
  );
}

export interface SoldPoint {
  t: number;
  sold: number;
}

/** Units sold against the quantity, since this page opened. */
export function SoldChart({
  points,
  quantity,
  seconds,
  now,
}: {
  points: SoldPoint[];
  quantity: number;
  seconds: SecondStats[];
  now: number;
}) {
  const span = windowOf(seconds, now);
  const shown = points.filter((point) => point.t >= span.from);
  const last = shown.at(-1);
  return (
    <TimeChart
      {...span}
      title="Sold (since this page opened)"
      testId="monitor-chart-sold"
      yMax={Math.max(quantity, last?.sold ?? 0, 1)}
      yUnit="units"
      legend={[
        { label: "Sold", color: "#1a7f37" },
        { label: "Quantity", color: "#5b6470", dashed: true },
      ]}
      summary={
        last ? `${last.sold} of ${quantity} sold.` : "Waiting for the first snapshot of the sale."
      }
      draw={(plot) => {
        // A step line: the count holds until the second it changes.
        let path = "";
        shown.forEach((point, i) => {
          const x = plot.x(point.t) + plot.slot / 2;
          const y = plot.y(point.sold);
          path += i === 0 ? `M${x.toFixed(1)},${y.toFixed(1)}` : `H${x.toFixed(1)}V${y.toFixed(1)}`;
        });
        return (
          <g>
            <line
              x1={plot.left}
              x2={plot.right}
              y1={plot.y(quantity)}
              y2={plot.y(quantity)}
              stroke="#5b6470"
              strokeDasharray="5 4"
            />
            <path d={path} fill="none" stroke="#1a7f37" strokeWidth={2.5} />
          </g>
        );
      }}
    />
  );
}

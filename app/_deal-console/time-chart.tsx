"use client";

import { type ReactNode, useEffect, useRef, useState } from "react";

/** What a chart's marks are drawn with: the plot area and its two scales. */
export interface Plot {
  /** Left edge of second `t`'s slot. */
  x: (t: number) => number;
  y: (value: number) => number;
  /** Width of one second's slot. */
  slot: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
  /** What the item counts, in words (shown on hover). */
  title?: string;
}

const MARGIN = { top: 10, right: 12, bottom: 24, left: 44 };

/** A round number at or above `value`: 1, 2, 2.5, 5 × a power of ten. */
function niceCeil(value: number) {
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((f) => f * power >= value) ?? 10;
  return step * power;
}

/** Four or so evenly spaced round ticks from 0 up past `max`. */
export function yTicks(max: number) {
  const step = niceCeil(Math.max(max, 1e-9) / 4);
  const top = Math.ceil(max / step - 1e-9) * step || step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(6)));
  return ticks;
}

function useWidth<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.floor(entry.contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

/**
 * A chart over the seconds `from`..`to` (epoch seconds): labelled axes, a legend, and the
 * marks `draw` returns. Fills its container's width; the height never changes.
 */
export function TimeChart({
  title,
  testId,
  from,
  to,
  yMax,
  yUnit,
  legend,
  summary,
  height = 180,
  draw,
}: {
  title: string;
  testId: string;
  from: number;
  to: number;
  yMax: number;
  yUnit: string;
  legend: LegendItem[];
  /** What the chart shows now, for screen readers. */
  summary: string;
  height?: number;
  draw: (plot: Plot) => ReactNode;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const ticks = yTicks(yMax);
  const top = ticks.at(-1) ?? 1;
  const span = to - from + 1;
  const plot: Plot = {
    left: MARGIN.left,
    right: Math.max(MARGIN.left + 1, width - MARGIN.right),
    top: MARGIN.top,
    bottom: height - MARGIN.bottom,
    slot: 0,
    x: () => 0,
    y: (value) => plot.bottom - (Math.min(value, top) / top) * (plot.bottom - plot.top),
  };
  plot.slot = (plot.right - plot.left) / span;
  plot.x = (t) => plot.left + (t - from) * plot.slot;
  // A label every 15 s where there is room for it, else every 30 s.
  const every = plot.right - plot.left > 420 ? 15 : 30;
  const xTicks = [];
  for (let ago = 0; ago < span; ago += every) xTicks.push(to - ago);

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption className="chart-head">
        <h3>{title}</h3>
        <ul className="chart-legend">
          {legend.map((item) => (
            <li key={item.label} title={item.title}>
              <span
                className={item.dashed ? "swatch swatch-dashed" : "swatch"}
                style={{ background: item.dashed ? undefined : item.color, color: item.color }}
                aria-hidden="true"
              />
              {item.label}
            </li>
          ))}
        </ul>
      </figcaption>
      <div ref={ref} className="chart-plot" style={{ height }}>
        {width > 0 && (
          <svg width={width} height={height} role="img" aria-label={summary}>
            <g className="chart-grid">
              {ticks.map((tick) => (
                <g key={tick}>
                  <line x1={plot.left} x2={plot.right} y1={plot.y(tick)} y2={plot.y(tick)} />
                  <text x={plot.left - 6} y={plot.y(tick)} textAnchor="end" dy="0.32em">
                    {tick.toLocaleString()}
                  </text>
                </g>
              ))}
              <text
                x={12}
                y={(plot.top + plot.bottom) / 2}
                textAnchor="middle"
                transform={`rotate(-90 12 ${(plot.top + plot.bottom) / 2})`}
              >
                {yUnit}
              </text>
            </g>
            {draw(plot)}
            <g className="chart-axis">
              <line x1={plot.left} x2={plot.right} y1={plot.bottom} y2={plot.bottom} />
              {xTicks.map((t) => (
                <text
                  key={t}
                  x={plot.x(t) + plot.slot / 2}
                  y={height - 6}
                  textAnchor={t === to ? "end" : "middle"}
                >
                  {t === to ? "now" : `−${to - t} s`}
                </text>
              ))}
            </g>
          </svg>
        )}
      </div>
    </figure>
  );
}

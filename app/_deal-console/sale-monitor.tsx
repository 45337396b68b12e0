"use client";

import { useSubscription } from "@trpc/tanstack-react-query";
import { type ReactNode, useEffect, useState } from "react";
import { useNow } from "@/app/(shop)/use-now";
import { useTRPC } from "@/lib/trpc/client";
import { type ApiError, readApiError } from "@/lib/wire/read-api-error";
import type { SaleSnapshot } from "./console-types";
import { formatCountdown } from "./format-when";
import { AttemptsChart, LatencyChart, SoldChart, type SoldPoint } from "./monitor-charts";
import { PhaseBadge } from "./phase-badge";
import { SoldBar } from "./sold-bar";
import "./sale-monitor.css";

/** Refusals a retry cannot fix: the monitor stops and says why. */
const FINAL_CODES = new Set<ApiError["code"]>(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"]);
const RETRY_MS = 2_000;
/** A snapshot comes every second; this long without one and the monitor says it is stale. */
const STALE_MS = 3_500;

const perSecond = (n: number, seconds: number) => (seconds > 0 ? n / seconds : 0);
const formatRate = (rate: number) =>
  rate >= 100 ? Math.round(rate).toLocaleString() : rate.toFixed(1);
const formatMs = (ms: number | null | undefined) =>
  ms == null ? "—" : `${ms < 10 ? ms : Math.round(ms).toLocaleString()} ms`;

/** The last 90 seconds of "sold", one point a second, from the snapshots seen. */
function withSold(points: SoldPoint[], snapshot: SaleSnapshot): SoldPoint[] {
  const t = Math.floor(snapshot.at.getTime() / 1_000) - 1;
  const kept = points.filter((point) => point.t > t - 90 && point.t !== t);
  return [...kept, { t, sold: snapshot.deal.sold }];
}

/**
 * A running sale, once a second: the headline numbers first (readable at a glance), then
 * attempts by outcome, latency and sold over the last 90 seconds.
 */
export function SaleMonitor({ dealId }: { dealId: string }) {
  const trpc = useTRPC();
  const [sold, setSold] = useState<SoldPoint[]>([]);
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const monitor = useSubscription(
    trpc.sales.monitor.subscriptionOptions(
      { dealId },
      {
        onData: (snapshot) => {
          setLastDataAt(Date.now());
          setSold((points) => withSold(points, snapshot));
        },
      },
    ),
  );
  const now = useNow();
  const finalError =
    monitor.status === "error" && monitor.error && FINAL_CODES.has(readApiError(monitor.error).code)
      ? monitor.error
      : null;

  // The server ended the stream with an error (a restart, a lost database): start again.
  const { status, reset } = monitor;
  useEffect(() => {
    if (status !== "error" || finalError) return;
    const timer = setTimeout(reset, RETRY_MS);
    return () => clearTimeout(timer);
  }, [status, reset, finalError]);

  const snapshot = monitor.data;
  const stale = lastDataAt === null || now.getTime() - lastDataAt > STALE_MS;
  const connection = finalError
    ? { className: "conn conn-down", text: "stopped" }
    : lastDataAt === null
      ? { className: "conn", text: "connecting…" }
      : monitor.status === "pending" && !stale
        ? { className: "conn conn-live", text: "live" }
        : { className: "conn conn-down", text: "reconnecting…" };

  const nowSeconds = Math.floor(now.getTime() / 1_000) - 1;
  const seconds = snapshot?.seconds ?? [];
  return (
    <section
      className={connection.text === "live" ? "card monitor" : "card monitor monitor-stale"}
      aria-labelledby="monitor-title"
    >
      <div className="monitor-head">
        <h2 id="monitor-title">Live sale monitor</h2>
        <span className={connection.className} role="status">
          <span className="conn-dot" aria-hidden="true" />
          {connection.text}
        </span>
        {snapshot && <SaleClock snapshot={snapshot} now={now} />}
      </div>
      {finalError && <p className="error">{finalError.message}</p>}
      <MonitorTiles snapshot={snapshot} />
      <div className="monitor-charts">
        <div className="monitor-chart-wide">
          <AttemptsChart seconds={seconds} now={nowSeconds} />
        </div>
        <LatencyChart seconds={seconds} now={nowSeconds} />
        <SoldChart
          points={sold}
          quantity={snapshot?.deal.quantity ?? 0}
          seconds={seconds}
          now={nowSeconds}
        />
      </div>
    </section>
  );
}

function SaleClock({ snapshot, now }: { snapshot: SaleSnapshot; now: Date }) {
  const { phase, startsAt, endsAt } = snapshot.deal;
  const text =
    phase === "upcoming"
      ? `starts in ${formatCountdown(startsAt.getTime() - now.getTime())}`
      : phase === "live"
        ? `ends in ${formatCountdown(endsAt.getTime() - now.getTime())}`
        : null;
  return (
    <span className="sale-clock">
      <PhaseBadge phase={phase} />
      {text && <span className="sale-countdown">{text}</span>}
    </span>
  );
}

function Tile({
  label,
  value,
  sub,
  testId,
  tone,
  children,
}: {
  label: string;
  value: ReactNode;
  sub?: ReactNode;
  testId?: string;
  tone?: "ok" | "bad";
  children?: ReactNode;
}) {
  return (
    <div className={tone ? `tile tile-${tone}` : "tile"} data-testid={testId}>
      <p className="tile-label">{label}</p>
      <p className="tile-value">{value}</p>
      {children}
      {sub && <p className="tile-sub">{sub}</p>}
    </div>
  );
}

function MonitorTiles({ snapshot }: { snapshot: SaleSnapshot | undefined }) {
  if (!snapshot) {
    return (
      <div className="monitor-tiles" aria-busy="true">
        <Tile label="Attempts / s" value="—" sub="waiting for data" />
        <Tile label="Won / s" value="—" />
        <Tile label="Sold" value="—" />
        <Tile label="Remaining" value="—" />
        <Tile label="Redeemed" value="—" />
        <Tile label="p50 latency" value="—" />
        <Tile label="p99 latency" value="—" />
      </div>
    );
  }
  const { recent, deal, gate, redemptions } = snapshot;
  const conflicts = redemptions.redeemedTwice + redemptions.redeemedAfterCancellation;
  const lastSeconds = `last ${recent.seconds} s`;
  const won = recent.attempts.WON ?? 0;
  const limited = recent.attempts.RATE_LIMITED ?? 0;
  const inPostgres = deal.quantity - deal.sold;
  return (
    <div className="monitor-tiles">
      <Tile
        label="Attempts / s"
        value={formatRate(perSecond(recent.total, recent.seconds))}
        sub={limited > 0 ? `${lastSeconds} · ${limited} rate limited` : lastSeconds}
        testId="monitor-attempts-per-second"
      />
      <Tile
        label="Won / s"
        value={formatRate(perSecond(won, recent.seconds))}
        sub={lastSeconds}
        tone={won > 0 ? "ok" : undefined}
      />
      <Tile
        label="Sold"
        value={<SoldBar sold={deal.sold} quantity={deal.quantity} large />}
        sub={inPostgres > 0 ? `${inPostgres.toLocaleString()} left` : "sold out"}
        testId="monitor-sold"
      />
      <Tile
        label="Remaining"
        value={
          <span className="gate-pair">
            <span>
              {gate.remainingAtGate ?? "—"}
              <small>gate</small>
            </span>
            <span>
              {inPostgres}
              <small>Postgres</small>
            </span>
          </span>
        }
        sub={
          <>
            <span className={gate.consistent ? "badge badge-live" : "badge badge-out"}>
              {gate.consistent ? "in sync" : "drift"}
            </span>{" "}
            <span className="nowrap">{gate.pendingAtGate} pending</span>
            {gate.remainingAtGate === null ? " · gate not loaded" : ""}
          </>
        }
        tone={gate.consistent ? undefined : "bad"}
        testId="monitor-gate"
      />
      <Tile
        label="Redeemed"
        value={redemptions.redeemed.toLocaleString()}
        sub={
          conflicts === 0
            ? "no conflicts"
            : [
                redemptions.redeemedAfterCancellation > 0 &&
                  `${redemptions.redeemedAfterCancellation} after cancellation`,
                redemptions.redeemedTwice > 0 && `${redemptions.redeemedTwice} twice`,
              ]
                .filter(Boolean)
                .join(" · ")
        }
        tone={conflicts > 0 ? "bad" : undefined}
        testId="monitor-redeemed"
      />
      <Tile label="p50 latency" value={formatMs(recent.p50Ms)} sub={lastSeconds} />
      <Tile
        label="p99 latency"
        value={formatMs(recent.p99Ms)}
        sub={lastSeconds}
        testId="monitor-p99"
      />
    </div>
  );
}

/**
 * Live stock at scale (issue 7, item 4): many SSE subscribers to one deal on one running
 * server, on the live-stock route (`GET /api/deals/<dealId>/stock`), while claims go through
 * the claim route (`POST /api/claim`). Measures what a subscriber costs the server in memory,
 * how long a claim takes to reach every subscriber (target: p99 ≤ 1 s), and how long claims
 * wait while the server fans updates out. `bench/stock-fanout-cli.ts` runs it.
 */
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { Db } from "@/db/client";
import { postClaim } from "@/lib/claims/claim-client";
import { liveStockUrl } from "@/lib/deals/live-stock";
import { newId } from "@/lib/ids";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { SESSION_COOKIE, SessionCodec } from "@/server/auth/session";
import { cpuSeconds } from "@/testing/processes";
import { createShoppers } from "@/testing/sale-fixtures";
import { scrapeMetrics } from "./processes";
import { percentile } from "./report";

/** Connections being opened at once (each waits for its first stock value). */
const CONNECTING_AT_ONCE = 200;
/** Time between the measured claims, so each one's update is told apart. */
const CLAIM_GAP_MS = 250;

export interface StockFanoutOptions {
  /** A production server already running, e.g. http://127.0.0.1:3917. */
  baseUrl: string;
  /** That server's process, whose memory, file descriptors and CPU time are read from /proc. */
  serverPid: number;
  /** The server's database: shoppers are inserted there to claim. */
  db: Db;
  /** The server's SESSION_SECRET, to sign those shoppers' session cookies. */
  sessionSecret: string;
  /** A live deal with more stock than `claims + 1`, that nobody else claims during the run. */
  dealId: string;
  subscribers?: number;
  claims?: number;
  /** The server's Redis, to check that it dropped the deal's channel once everyone left. */
  redis?: { url: string; keyPrefix: string };
}

export interface StockFanoutResult {
  subscribers: { asked: number; connected: number; connectFailures: number; droppedEarly: number };
  connectMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSubscriber: number;
  /** V8 heap in use as the server's own metrics report it (no GC forced, so it is noisy). */
  heapUsedBeforeBytes: number | null;
  heapUsedAfterBytes: number | null;
  heapBytesPerSubscriber: number | null;
  serverFds: { before: number; connected: number; afterClose: number };
  /** `answerMs`: how long each claim took to be answered while the fan-out ran. */
  claims: { sent: number; won: number; outcomes: Record<string, number>; answerMs: Percentiles };
  /** Claim sent → a subscriber first sees a count at or below the count after it. */
  delayMs: Percentiles & { pairs: number };
  /** Claim sent → the last subscriber has seen it, one figure per claim. */
  everyoneSeenMs: Percentiles;
  /** (claim, subscriber) pairs where the subscriber never saw the claim's count. */
  missedUpdates: number;
  /** Stock updates received after the first value, summed over subscribers. */
  deliveries: number;
  /** The server's user + system CPU time (all its threads, GC included) in each phase. */
  serverCpuMs: { connecting: number; claiming: number };
  /** Server CPU while claiming divided by `deliveries` (claims included: an upper bound). */
  serverCpuPerDeliveryUs: number;
  /** This process's event-loop delay while claiming: it bounds how late arrivals are noted. */
  clientLoopDelayP99Ms: number;
  /** `releaseMs`: from closing every subscription until the server let go of them all. */
  afterClose: {
    releaseMs: number;
    rssBytes: number;
    heapUsedBytes: number | null;
    redisChannelSubscribers?: number;
  };
  problems: string[];
}

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

const CONNECT_TIMEOUT_MS = 180_000;
const CLAIM_TIMEOUT_MS = 30_000;
const DELIVERY_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 20_000;
const SETTLE_MS = 1_000;

export async function measureStockFanout(options: StockFanoutOptions): Promise<StockFanoutResult> {
  const asked = options.subscribers ?? 10_000;
  const claimCount = options.claims ?? 20;
  const problems: string[] = [];
  const url = stockUrl(options.baseUrl, options.dealId);
  const shoppers = await mintShoppers(options.db, options.sessionSecret, claimCount + 1);
  const [warmupShopper, ...claimers] = shoppers;

  // Loads the gate, the route's code and the subscription path before anything is measured.
  const warmupClaim = warmupShopper && (await claim(options, warmupShopper, 0));
  if (warmupClaim?.outcome !== "WON") problems.push(`warm-up claim: ${warmupClaim?.outcome}`);
  const warmup = new StockSubscriber(url, "10.88.255.255");
  try {
    await warmup.firstValue(10_000);
  } finally {
    warmup.close();
  }
  await sleep(SETTLE_MS);

  const rssBefore = readRss(options.serverPid);
  const heapBefore = await readHeapUsed(options.baseUrl);
  const fdsBefore = countFds(options.serverPid);
  const subscribers: StockSubscriber[] = [];
  try {
    const cpuAtConnect = cpuSeconds(options.serverPid) * 1_000;
    const connectStarted = performance.now();
    const connectFailures = await connectAll(url, subscribers, asked, CONNECTING_AT_ONCE, problems);
    const connectMs = performance.now() - connectStarted;
    const cpuConnecting = cpuSeconds(options.serverPid) * 1_000 - cpuAtConnect;
    await sleep(SETTLE_MS);
    const connected = subscribers.filter((s) => s.seen.length > 0);
    const rssAfter = readRss(options.serverPid);
    const heapAfter = await readHeapUsed(options.baseUrl);
    const fdsConnected = countFds(options.serverPid);

    const startRemaining = connected[0]?.seen[0] ?? 0;
    if (connected.some((s) => s.seen[0] !== startRemaining)) {
      problems.push("subscribers started from different counts");
    }
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpuAtClaims = cpuSeconds(options.serverPid) * 1_000;
    const sent = await sendClaims(options, claimers, CLAIM_GAP_MS, problems);
    const targets = countsAfterWins(startRemaining, sent);
    const lastTarget = targets.at(-1)?.remaining;
    if (lastTarget !== undefined) await allHaveSeen(connected, lastTarget, DELIVERY_TIMEOUT_MS);
    const cpuClaiming = cpuSeconds(options.serverPid) * 1_000 - cpuAtClaims;
    loopDelay.disable();

    const delivery = measureDelivery(connected, targets);
    const droppedEarly = connected.filter((s) => s.endedByServer).length;
    for (const s of subscribers) s.close();
    subscribers.length = 0;
    const afterClose = await waitForServerToLetGo(options, fdsBefore, problems);

    const outcomes: Record<string, number> = {};
    for (const { outcome } of sent) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    return {
      subscribers: { asked, connected: connected.length, connectFailures, droppedEarly },
      connectMs: Math.round(connectMs),
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      bytesPerSubscriber: Math.round((rssAfter - rssBefore) / Math.max(1, connected.length)),
      heapUsedBeforeBytes: heapBefore,
      heapUsedAfterBytes: heapAfter,
      heapBytesPerSubscriber:
        heapBefore === null || heapAfter === null
          ? null
          : Math.round((heapAfter - heapBefore) / Math.max(1, connected.length)),
      serverFds: { before: fdsBefore, connected: fdsConnected, afterClose: afterClose.fds },
      claims: {
        sent: sent.length,
        won: targets.length,
        outcomes,
        answerMs: percentiles(sent.map((c) => c.answeredAt - c.sentAt)),
      },
      ...delivery,
      serverCpuMs: { connecting: Math.round(cpuConnecting), claiming: Math.round(cpuClaiming) },
      serverCpuPerDeliveryUs: Math.round((cpuClaiming * 1_000) / Math.max(1, delivery.deliveries)),
      clientLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6),
      afterClose: {
        releaseMs: afterClose.releaseMs,
        rssBytes: afterClose.rss,
        heapUsedBytes: afterClose.heapUsed,
        redisChannelSubscribers: afterClose.redisChannelSubscribers,
      },
      problems,
    };
  } finally {
    for (const s of subscribers) s.close();
  }
}

function stockUrl(baseUrl: string, dealId: string): URL {
  return new URL(liveStockUrl(dealId), baseUrl);
}

/**
 * One SSE subscription on its own socket (no agent: a pooled agent would queue them), noting
 * every stock count it receives and when. Frames end with a blank line: `data: {LiveStock}`
 * carries a count; `retry: …` and `: keep-alive` comment lines carry none.
 */
class StockSubscriber {
  readonly seen: number[] = [];
  readonly seenAt: number[] = [];
  endedByServer = false;
  error: string | null = null;
  private buffer = "";
  private closed = false;
  private readonly request: http.ClientRequest;
  private onSettled: (() => void) | null = null;

  /** `address` is the shopper's, as the proxy in front reports it: a crowd, not one client. */
  constructor(url: URL, address: string) {
    this.request = http.get(url, {
      agent: false,
      headers: { accept: "text/event-stream", "x-forwarded-for": address },
    });
    this.request.on("error", (error) => this.fail(error.message));
    this.request.on("response", (response) => {
      if (response.statusCode !== 200) this.fail(`HTTP ${response.statusCode}`);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => this.receive(chunk, performance.now()));
      response.on("error", (error) => this.fail(error.message));
      response.on("close", () => {
        if (!this.closed) this.endedByServer = true;
        this.fail("stream ended");
      });
    });
  }

  /** Resolves once the first count arrived; rejects on an error or after `timeoutMs`. */
  async firstValue(timeoutMs: number): Promise<void> {
    if (this.seen.length > 0) return;
    if (this.error) throw new Error(this.error);
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.onSettled = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    if (this.seen.length === 0) throw new Error(this.error ?? `no count in ${timeoutMs} ms`);
  }

  get lowest(): number {
    return this.seen.at(-1) ?? Number.POSITIVE_INFINITY;
  }

  close() {
    this.closed = true;
    this.request.destroy();
  }

  private receive(chunk: string, at: number) {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf("\n\n"); end >= 0; end = this.buffer.indexOf("\n\n")) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (frame.startsWith("data: ")) {
        this.seen.push(JSON.parse(frame.slice(6)).remaining);
        this.seenAt.push(at);
        this.onSettled?.();
      }
    }
  }

  private fail(reason: string) {
    this.error ??= reason;
    this.onSettled?.();
  }
}

/** Opens `count` subscriptions, `concurrency` at a time; answers how many failed to connect. */
async function connectAll(
  url: URL,
  into: StockSubscriber[],
  count: number,
  concurrency: number,
  problems: string[],
): Promise<number> {
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  const errors = new Map<string, number>();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (into.length < count && performance.now() < deadline) {
        const n = into.length;
        const subscriber = new StockSubscriber(url, `10.88.${(n >> 8) & 255}.${n & 255}`);
        into.push(subscriber);
        await subscriber.firstValue(deadline - performance.now()).catch((error: Error) => {
          errors.set(error.message, (errors.get(error.message) ?? 0) + 1);
        });
      }
    }),
  );
  for (const [message, n] of errors) problems.push(`connect failed ${n}x: ${message}`);
  return [...errors.values()].reduce((sum, n) => sum + n, 0);
}

interface Shopper {
  cookie: string;
}

/** Shoppers to claim, each with the session cookie the server would have set. */
async function mintShoppers(db: Db, secret: string, howMany: number): Promise<Shopper[]> {
  const sessions = new SessionCodec(secret);
  return Promise.all(
    (await createShoppers(db, howMany)).map(async (userId) => {
      const token = await sessions.issue({ userId, role: "shopper", displayName: "Fan-out" });
      return { cookie: `${SESSION_COOKIE}=${token}` };
    }),
  );
}

interface ClaimAnswer {
  outcome: string;
  /** False when the claim may still have won: no answer in time, or a 5xx. */
  decided: boolean;
}

/** One claim on the claim route; each shopper gets its own address for the rate limit. */
async function claim(
  options: StockFanoutOptions,
  shopper: Shopper,
  index: number,
): Promise<ClaimAnswer> {
  try {
    const result = await postClaim(
      { dealId: options.dealId, idempotencyKey: `fanout-${newId()}` },
      {
        baseUrl: options.baseUrl,
        headers: { cookie: shopper.cookie, "x-forwarded-for": `198.51.100.${index % 250}` },
        signal: AbortSignal.timeout(CLAIM_TIMEOUT_MS),
      },
    );
    return { outcome: result.outcome, decided: true };
  } catch (error) {
    // Status 0: no answer in time, or the connection failed.
    if (!(error instanceof ApiRequestError) || error.status === 0) {
      return { outcome: "FAILED no answer", decided: false };
    }
    return { outcome: `HTTP ${error.status} ${error.error.code}`, decided: error.status < 500 };
  }
}

interface SentClaim extends ClaimAnswer {
  sentAt: number;
  answeredAt: number;
}

/**
 * Claims one after another, so each one's count after it is known exactly. The gaps are random
 * (`gapMs` to twice that): claims at a fixed 250 ms would keep one phase against the feed's
 * 250 ms coalescing timer and measure that phase alone. Stops at a claim whose fate is
 * unknown: it may still win, and then no later count could be told.
 */
async function sendClaims(
  options: StockFanoutOptions,
  shoppers: Shopper[],
  gapMs: number,
  problems: string[],
) {
  const sent: SentClaim[] = [];
  let due = performance.now();
  for (const [i, shopper] of shoppers.entries()) {
    if (due > performance.now()) await sleep(due - performance.now());
    due += gapMs * (1 + Math.random());
    const sentAt = performance.now();
    const answer = await claim(options, shopper, i + 1);
    sent.push({ ...answer, sentAt, answeredAt: performance.now() });
    if (!answer.decided) {
      problems.push(`claim ${i + 1} undecided (${answer.outcome}): stopped claiming`);
      break;
    }
  }
  return sent;
}

/** The count a subscriber must reach to have seen each won claim. */
function countsAfterWins(startRemaining: number, sent: SentClaim[]) {
  let remaining = startRemaining;
  return sent
    .filter((c) => c.outcome === "WON")
    .map((c) => ({ sentAt: c.sentAt, remaining: --remaining }));
}

async function allHaveSeen(subscribers: StockSubscriber[], remaining: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && subscribers.some((s) => s.lowest > remaining)) {
    await sleep(20);
  }
}

function measureDelivery(
  subscribers: StockSubscriber[],
  targets: { sentAt: number; remaining: number }[],
) {
  const delays: number[] = [];
  const lastArrival = targets.map(() => 0);
  let missedUpdates = 0;
  let deliveries = 0;
  for (const s of subscribers) {
    deliveries += s.seen.length - 1;
    let j = 0;
    for (const [k, target] of targets.entries()) {
      while (j < s.seen.length && (s.seen[j] ?? 0) > target.remaining) j++;
      const at = s.seenAt[j];
      if (at === undefined) {
        missedUpdates++;
        lastArrival[k] = Number.POSITIVE_INFINITY;
        continue;
      }
      delays.push(at - target.sentAt);
      lastArrival[k] = Math.max(lastArrival[k] ?? 0, at - target.sentAt);
    }
  }
  return {
    delayMs: { ...percentiles(delays), pairs: delays.length },
    everyoneSeenMs: percentiles(lastArrival.filter(Number.isFinite)),
    missedUpdates,
    deliveries,
  };
}

/**
 * Waits until the server has closed the sockets and, when its Redis is known, dropped the
 * deal's channel (its last subscription ended); then reads what memory it kept.
 */
async function waitForServerToLetGo(
  options: StockFanoutOptions,
  fdsBefore: number,
  problems: string[],
) {
  // The channel name is the server's (server/deals/stock-feed.ts): one per deal per instance.
  const channel = options.redis && `${options.redis.keyPrefix}stock:${options.dealId}`;
  const redis = options.redis && new Redis(options.redis.url, { maxRetriesPerRequest: 1 });
  const channelSubscribers = async () =>
    redis && channel ? ((await redis.pubsub("NUMSUB", channel)) as [string, number])[1] : 0;
  const started = performance.now();
  let fds = countFds(options.serverPid);
  let subscribed = await channelSubscribers();
  try {
    while (performance.now() - started < CLOSE_TIMEOUT_MS && (fds > fdsBefore + 5 || subscribed)) {
      await sleep(100);
      fds = countFds(options.serverPid);
      subscribed = await channelSubscribers();
    }
  } finally {
    redis?.disconnect();
  }
  const releaseMs = Math.round(performance.now() - started);
  if (fds > fdsBefore + 5) problems.push(`server kept ${fds - fdsBefore} file descriptors`);
  if (subscribed) problems.push(`server still subscribed to ${channel}`);
  await sleep(SETTLE_MS);
  return {
    fds,
    releaseMs,
    rss: readRss(options.serverPid),
    heapUsed: await readHeapUsed(options.baseUrl),
    redisChannelSubscribers: redis ? subscribed : undefined,
  };
}

function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

function countFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The server's own `nodejs_heap_size_used_bytes` gauge; null when it cannot be read. */
async function readHeapUsed(baseUrl: string): Promise<number | null> {
  try {
    const text = await scrapeMetrics(baseUrl);
    const value = /^\w*nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text)?.[1];
    return value ? Number(value) : null;
  } catch {
    return null;
  }
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(percentile(sorted, q));
  return { p50: at(0.5), p99: at(0.99), max: round(sorted.at(-1) ?? Number.NaN) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

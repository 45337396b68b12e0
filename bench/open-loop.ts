/**
 * A constant-rate (open-loop) load of our own, for `npm run bench`: attempts are scheduled at
 * a fixed rate whatever the server does, on `connections` keep-alive sockets held open for the
 * whole run, and each attempt's latency is measured from its scheduled send time. An attempt
 * that finds every socket busy waits for one, and that wait counts (no coordinated omission:
 * wrk's closed loop only sends when an answer came back, so it times the server's queue
 * away). Raw sockets and a minimal HTTP/1.1 reader keep the generator's own cost per attempt
 * small next to the server's on a 2-core box.
 *
 * Bounded: it schedules for `seconds`, then waits at most ANSWER_TIMEOUT_MS for the last
 * answers and closes every socket; an unanswered attempt counts as a timeout.
 */
import net from "node:net";
import { percentile } from "./report";

export interface OpenLoopResult {
  offeredPerSec: number;
  /** Attempts the schedule held: rate × seconds. */
  scheduled: number;
  answered: number;
  /** Scheduled attempts with no answer ANSWER_TIMEOUT_MS after the schedule ended. */
  timeouts: number;
  /** From the first scheduled send to the last. */
  durationS: number;
  byStatus: Record<string, number>;
  won: number;
  /** 503 answers that came before this run saw its first SOLD_OUT. */
  shedWhileStock: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface OpenLoopRun {
  host: string;
  port: number;
  path: string;
  dealId: string;
  /** Session tokens: attempt n is shopper n (mod the list), each with its own key. */
  tokens: string[];
  ratePerSec: number;
  connections: number;
  seconds: number;
}

const ANSWER_TIMEOUT_MS = 10_000;
const TICK_MS = 1;

interface Conn {
  socket: net.Socket;
  buffer: Buffer;
  /** The attempt awaiting its answer on this socket, by its scheduled time. */
  inFlight: number | null;
}

export async function runOpenLoop(run: OpenLoopRun): Promise<OpenLoopResult> {
  const conns = await Promise.all(
    Array.from({ length: run.connections }, () => connect(run.host, run.port)),
  );
  const idle: Conn[] = [...conns];
  /** Scheduled send times (ms) waiting for a free socket, oldest first. */
  const backlog: { at: number; n: number }[] = [];
  const latencies: number[] = [];
  const byStatus: Record<string, number> = {};
  let won = 0;
  let shedWhileStock = 0;
  let soldOutSeen = false;
  let answered = 0;

  const request = (n: number) => {
    const token = run.tokens[n % run.tokens.length] ?? "";
    const body = `{"dealId":"${run.dealId}","idempotencyKey":"open-loop-${n}"}`;
    const shopper = n % run.tokens.length;
    const ip = `10.${(shopper >> 16) & 255}.${(shopper >> 8) & 255}.${shopper & 255}`;
    return (
      `POST ${run.path} HTTP/1.1\r\nHost: ${run.host}\r\nContent-Type: application/json\r\n` +
      `Cookie: dd_session=${token}\r\nX-Forwarded-For: ${ip}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    );
  };
  const send = (conn: Conn, at: number, n: number) => {
    conn.inFlight = at;
    conn.socket.write(request(n));
  };
  const answer = (conn: Conn, status: number, body: string) => {
    const at = conn.inFlight;
    conn.inFlight = null;
    if (at === null) return;
    answered++;
    latencies.push(performance.now() - at);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (status === 503 && !soldOutSeen) shedWhileStock++;
    if (body.includes('"SOLD_OUT"')) soldOutSeen = true;
    else if (body.includes('"WON"')) won++;
    const next = backlog.shift();
    if (next) send(conn, next.at, next.n);
    else idle.push(conn);
  };
  for (const conn of conns) {
    conn.socket.on("data", (chunk: Buffer) => {
      conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
      for (;;) {
        const parsed = readResponse(conn.buffer);
        if (!parsed) break;
        conn.buffer = conn.buffer.subarray(parsed.length);
        answer(conn, parsed.status, parsed.body);
      }
    });
  }

  const startedAt = performance.now();
  const interval = 1_000 / run.ratePerSec;
  const total = Math.round(run.ratePerSec * run.seconds);
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (scheduled < total && startedAt + scheduled * interval <= now) {
        const at = startedAt + scheduled * interval;
        const conn = idle.pop();
        if (conn) send(conn, at, scheduled);
        else backlog.push({ at, n: scheduled });
        scheduled++;
      }
      if (scheduled >= total) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const scheduledUntil = performance.now();
  const deadline = scheduledUntil + ANSWER_TIMEOUT_MS;
  while (answered < total && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const conn of conns) conn.socket.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    offeredPerSec: run.ratePerSec,
    scheduled: total,
    answered,
    timeouts: total - answered,
    durationS: (scheduledUntil - startedAt) / 1_000,
    byStatus,
    won,
    shedWhileStock,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    p999Ms: percentile(sorted, 0.999),
    maxMs: sorted.at(-1) ?? 0,
  };
}

function connect(host: string, port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    socket.once("connect", () => resolve({ socket, buffer: Buffer.alloc(0), inFlight: null }));
    socket.once("error", reject);
  });
}

/**
 * One whole HTTP/1.1 response at the start of `buffer`, or null while it is incomplete. Bodies
 * come with a Content-Length or chunked (node:http chunks a body it was not told the size of).
 */
function readResponse(buffer: Buffer): { status: number; body: string; length: number } | null {
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const head = buffer.toString("latin1", 0, headEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headEnd + 4;
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buffer.indexOf("\r\n", at);
      if (lineEnd < 0) return null;
      const size = Number.parseInt(buffer.toString("latin1", at, lineEnd), 16);
      const dataEnd = lineEnd + 2 + size;
      if (buffer.length < dataEnd + 2) return null;
      if (size === 0) {
        return { status, body: Buffer.concat(parts).toString("utf8"), length: dataEnd + 2 };
      }
      parts.push(buffer.subarray(lineEnd + 2, dataEnd));
      at = dataEnd + 2;
    }
  }
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const length = bodyStart + (match ? Number(match[1]) : 0);
  if (buffer.length < length) return null;
  return { status, body: buffer.toString("utf8", bodyStart, length), length };
}

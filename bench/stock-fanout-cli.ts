/**
 * Runs the live-stock fan-out measurement against the production server as `npm start` runs
 * it (`node dist/server.mjs`, after `npm run build`): a fresh database and Redis prefix, one
 * server in server mode, one live deal, then `measureStockFanout`. Everything it made is
 * removed at the end. Raises the open-file limit of itself and the server to fit the
 * subscribers (needs root past the hard limit).
 *   npx tsx --conditions=react-server bench/stock-fanout-cli.ts
 * Knobs (env): BENCH_SUBSCRIBERS (10000), BENCH_CLAIMS (20), BENCH_SKIP_BUILD=1 (use the
 * build in dist/ and .next as it is), BENCH_ADMIN_DATABASE_URL. Redis is a private one.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createScratchDatabase } from "@/db/scratch-database";
import { newId } from "@/lib/ids";
import { startPrivateRedis } from "@/testing/private-redis";
import { freePort, type Running, startProcess, waitForHttp } from "@/testing/processes";
import { UNUSED_STRIPE_ENV } from "@/testing/production-payments";
import { createDeal, createMerchant } from "@/testing/sale-fixtures";
import { BENCH_METRICS_TOKEN, BENCH_TRUSTED_PROXIES } from "./processes";
import { positiveInt, writeResults } from "./report";
import { measureStockFanout, type StockFanoutResult } from "./stock-fanout";

const subscribers = positiveInt("BENCH_SUBSCRIBERS", 10_000);
const claims = positiveInt("BENCH_CLAIMS", 20);
const adminUrl =
  process.env.BENCH_ADMIN_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

const built = existsSync("dist/server.mjs") && existsSync(".next/BUILD_ID");
if (process.env.BENCH_SKIP_BUILD !== "1" || !built) {
  execFileSync("npm", ["run", "build"], { stdio: "inherit" });
}
// Each subscriber is a socket here and one in the server, plus what both hold anyway.
const fileLimit = subscribers + 2_048;
raiseFileLimit(process.pid, fileLimit);

const runId = newId().toLowerCase();
const keyPrefix = `bench:${runId}:`;
const sessionSecret = randomBytes(48).toString("base64");
const redisServer = await startPrivateRedis();
const database = await createScratchDatabase({
  adminUrl,
  name: `dealdrop_fanout_${runId}`,
  poolSize: 2,
});
let server: Running | undefined;
let cleaning: Promise<void> | undefined;
/** Stops the server, drops the database and stops Redis; once, however it ends. */
const cleanUp = () => {
  cleaning ??= (async () => {
    await server?.stop();
    await database.drop();
    await redisServer.stop();
  })();
  return cleaning;
};
// An interrupted run must not leave a 1.5 GB server behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
try {
  const merchant = await createMerchant(database.db);
  const deal = await createDeal(database.db, merchant.id, { quantity: 1_000_000, now: new Date() });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // `npm start`'s server, run directly so that the pid held here is the server itself, and
  // with V8's default young generation rather than the start script's 64 MB, so that RSS
  // follows what the subscribers keep rather than garbage not yet collected.
  server = startProcess("node", ["dist/server.mjs"], {
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
    DATABASE_URL: database.url,
    REDIS_URL: redisServer.url,
    REDIS_KEY_PREFIX: keyPrefix,
    SESSION_SECRET: sessionSecret,
    VOUCHER_KEY_SECRET: randomBytes(48).toString("base64"),
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    TRUSTED_PROXIES: BENCH_TRUSTED_PROXIES,
    DEMO_SEED: "off",
    ...UNUSED_STRIPE_ENV,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
  });
  const pid = server.child.pid ?? 0;
  raiseFileLimit(pid, fileLimit);
  await waitForHttp(`${baseUrl}/api/claim`, server);
  console.log(`${subscribers} subscribers, ${claims} claims, server pid ${pid} at ${baseUrl}`);

  const result = await measureStockFanout({
    baseUrl,
    serverPid: pid,
    db: database.db,
    sessionSecret,
    dealId: deal.id,
    subscribers,
    claims,
    redis: { url: redisServer.url, keyPrefix },
  });
  console.log(formatFanout(result));
  console.log(`results: ${writeResults({ ...result }, "stock-fanout")}`);
} finally {
  await cleanUp();
}

/** Raises a process's open-file limit to `atLeast` with prlimit; warns when it cannot. */
function raiseFileLimit(pid: number, atLeast: number) {
  const soft = Number(
    /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1],
  );
  if (soft >= atLeast) return;
  try {
    execFileSync("prlimit", ["--pid", String(pid), `--nofile=${atLeast}:${atLeast}`]);
  } catch {
    console.warn(`open-file limit of ${pid} is ${soft}: subscribers past it will fail to connect`);
  }
}

function formatFanout(r: StockFanoutResult): string {
  const mb = (bytes: number | null) =>
    bytes === null ? "n/a" : `${(bytes / 2 ** 20).toFixed(1)} MB`;
  const kb = (bytes: number | null) => (bytes === null ? "n/a" : `${(bytes / 1024).toFixed(1)} KB`);
  const ms = (p: { p50: number; p99: number; max: number }) =>
    `p50 ${p.p50} / p99 ${p.p99} / max ${p.max} ms`;
  const rows: [string, string][] = [
    ["subscribers connected", `${r.subscribers.connected} of ${r.subscribers.asked}`],
    [
      "connect failures / dropped early",
      `${r.subscribers.connectFailures} / ${r.subscribers.droppedEarly}`,
    ],
    ["connect time (all first values)", `${r.connectMs} ms`],
    ["server RSS before → connected", `${mb(r.rssBeforeBytes)} → ${mb(r.rssAfterBytes)}`],
    ["RSS per subscriber", kb(r.bytesPerSubscriber)],
    ["heap used before → connected", `${mb(r.heapUsedBeforeBytes)} → ${mb(r.heapUsedAfterBytes)}`],
    ["heap per subscriber (no forced GC)", kb(r.heapBytesPerSubscriber)],
    [
      "server fds before / connected / closed",
      `${r.serverFds.before} / ${r.serverFds.connected} / ${r.serverFds.afterClose}`,
    ],
    ["claims won / sent", `${r.claims.won} / ${r.claims.sent}`],
    ["claim answered in", ms(r.claims.answerMs)],
    [`claim → subscriber (${r.delayMs.pairs} pairs)`, ms(r.delayMs)],
    ["claim → every subscriber (per claim)", ms(r.everyoneSeenMs)],
    ["missed updates", String(r.missedUpdates)],
    ["updates delivered while claiming", String(r.deliveries)],
    ["server CPU per delivered update", `${r.serverCpuPerDeliveryUs} µs`],
    [
      "server CPU connecting / claiming",
      `${r.serverCpuMs.connecting} / ${r.serverCpuMs.claiming} ms`,
    ],
    ["client event-loop delay p99", `${r.clientLoopDelayP99Ms} ms`],
    ["after close: server let go in", `${r.afterClose.releaseMs} ms`],
    [
      "after close: RSS / heap used (no forced GC)",
      `${mb(r.afterClose.rssBytes)} / ${mb(r.afterClose.heapUsedBytes)}`,
    ],
    [
      "after close: Redis channel subscribers",
      String(r.afterClose.redisChannelSubscribers ?? "n/a"),
    ],
    ["problems", r.problems.length === 0 ? "none" : r.problems.join("; ")],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

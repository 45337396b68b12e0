import { eq } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { newId } from "@/lib/ids";
import { countingLogger, totalQueryCount } from "@/testing/query-count";
import { createShoppers, createShopWithStaff } from "@/testing/sale-fixtures";
import { testCaller } from "@/testing/test-caller";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { handleTrpcRequest } from "../api/http-handler";
import type { Actor } from "../auth/actor";
import { parseEnv } from "../env";
import { SaleMonitor } from "./sale-monitor";
import { SaleStats } from "./sale-stats";
import { LocalSaleStatsStore, RedisSaleStatsStore } from "./sale-stats-store";
import type { Ticker } from "./shared-feed";

const MINUTE = 60_000;
let database: TestDatabase;
const prefix = `test:${newId()}:`;
const instances: Services[] = [];
let embedded: Services;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = parseEnv({
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    DEMO_SEED: "on",
  });
  // Two app instances on one Redis and Postgres: a monitor on one sees both's attempts.
  const counted = { queryLogger: countingLogger };
  instances.push(await createServices(env, counted), await createServices(env, counted));
  embedded = await createServices(parseEnv({ DATABASE_URL: database.url, DEMO_SEED: "off" }));
});
afterAll(async () => {
  const redis = instances[0]?.redis;
  const keys = await redis?.keys(`${prefix}*`);
  if (keys?.length) await redis?.del(...keys);
  for (const services of [...instances, embedded]) await services?.stop();
  await database?.drop();
});

async function liveDeal(services: Services, quantity: number) {
  const { staff } = await createShopWithStaff(database.db);
  const now = Date.now();
  const deal = await services.dealManagement.create(staff, {
    title: "Monitored deal",
    description: "",
    priceCents: 0,
    originalPriceCents: null,
    quantity,
    startsAt: new Date(now - MINUTE),
    endsAt: new Date(now + 60 * MINUTE),
    voucherValidUntil: new Date(now + 120 * MINUTE),
    location: { lat: 52.37, lng: 4.89 },
    geofenceRadiusM: null,
  });
  return { deal, staff };
}

/** Attempts counted over the whole series, by outcome. */
function totals(snapshot: Awaited<ReturnType<Services["monitor"]["snapshot"]>>) {
  const sum: Record<string, number> = {};
  for (const second of snapshot.seconds) {
    for (const [outcome, n] of Object.entries(second.attempts))
      sum[outcome] = (sum[outcome] ?? 0) + (n ?? 0);
  }
  return sum;
}

/** The monitor leaves out the second under way; wait until the attempts' second is whole. */
const nextSecond = () =>
  new Promise((resolve) => setTimeout(resolve, 1_100 - (Date.now() % 1_000)));

describe("the live sale monitor", () => {
  it("counts every instance's attempts by outcome, with latency and the gate against Postgres", async () => {
    const [first, second] = instances as [Services, Services];
    const { deal, staff } = await liveDeal(first, 2);
    const [a = "", b = "", c = ""] = await createShoppers(database.db, 3);
    await first.claims.claim(a, { dealId: deal.id, idempotencyKey: newId() });
    await second.claims.claim(b, { dealId: deal.id, idempotencyKey: newId() });
    await second.claims.claim(c, { dealId: deal.id, idempotencyKey: newId() });
    await first.claims.claim(a, { dealId: deal.id, idempotencyKey: newId() });
    await nextSecond();
    await second.monitor.snapshot(staff, deal.id); // flushes the second instance's counts

    const snapshot = await first.monitor.snapshot(staff, deal.id);
    expect(totals(snapshot)).toEqual({ WON: 2, SOLD_OUT: 1, ALREADY_CLAIMED: 1 });
    expect(snapshot.seconds).toHaveLength(90);
    expect(snapshot.deal).toMatchObject({ sold: 2, quantity: 2, phase: "live" });
    expect(snapshot.gate).toMatchObject({ remainingAtGate: 0, activeClaims: 2, consistent: true });
    const busy = snapshot.seconds.filter((s) => s.total > 0);
    expect(busy.every((s) => s.p50Ms !== null && (s.p99Ms ?? 0) >= (s.p50Ms ?? 0))).toBe(true);
  });

  it("works without Redis, counting in the one process", async () => {
    const { deal, staff } = await liveDeal(embedded, 1);
    const [a = "", b = ""] = await createShoppers(database.db, 2);
    await embedded.claims.claim(a, { dealId: deal.id, idempotencyKey: newId() });
    await embedded.claims.claim(b, { dealId: deal.id, idempotencyKey: newId() });
    await nextSecond();
    const snapshot = await embedded.monitor.snapshot(staff, deal.id);
    expect(totals(snapshot)).toEqual({ WON: 1, SOLD_OUT: 1 });
    expect(snapshot.gate).toMatchObject({ activeClaims: 1, consistent: true });
  });

  it("streams snapshots over SSE to the deal's staff and admins, and refuses anyone else", async () => {
    const services = instances[0] as Services;
    const { deal, staff } = await liveDeal(services, 3);
    const [admin] = await database.db
      .select()
      .from(users)
      .where(eq(users.email, DEMO_ACCOUNTS.admin));
    const cookieOf = async (actor: Actor) => `dd_session=${await services.sessions.issue(actor)}`;
    const { staff: stranger } = await createShopWithStaff(database.db, "Stranger");
    const firstEvent = async (cookie: string) => {
      const stream = await openMonitor(services, cookie, deal.id);
      await stream.close();
      return stream;
    };
    const forStaff = await firstEvent(await cookieOf(staff));
    expect(forStaff.text).toContain('"title":"Monitored deal"');
    expect(forStaff.text).toContain('"consistent":true');
    if (admin) {
      const forAdmin = await firstEvent(
        await cookieOf({ userId: admin.id, role: "admin", displayName: admin.displayName }),
      );
      expect(forAdmin.text).toContain('"title":"Monitored deal"');
    }
    const forStranger = await firstEvent(await cookieOf(stranger));
    expect(forStranger.text).not.toContain("Monitored deal");
    expect(forStranger.text).toMatch(/FORBIDDEN|another merchant/);
  });
});

/** A ticker the test turns by hand: one clock, no timing. */
function handTicker() {
  const listeners = new Set<() => void>();
  const ticker: Ticker = (onTick) => {
    listeners.add(onTick);
    return () => {
      listeners.delete(onTick);
    };
  };
  return {
    ticker,
    tick: () => {
      for (const onTick of listeners) onTick();
    },
    running: () => listeners.size,
  };
}

/** What the SSE stream of `sales.monitor` sends until it shows a snapshot or an error. */
async function openMonitor(services: Services, cookie: string, dealId: string) {
  const controller = new AbortController();
  const input = encodeURIComponent(JSON.stringify(superjson.serialize({ dealId })));
  const response = await handleTrpcRequest(
    services,
    new Request(`http://127.0.0.1/api/trpc/sales.monitor?input=${input}`, {
      headers: { cookie },
      signal: controller.signal,
    }),
    testCaller(),
  );
  const reader = response.body?.getReader();
  let text = "";
  // The stream opens with a `connected` event; read on to the first snapshot or error.
  const deadline = Date.now() + 5_000;
  while (reader && !/"title"|serialized-error\ndata: \S/.test(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    text,
    close: async () => {
      controller.abort();
      await reader?.cancel().catch(() => undefined);
    },
  };
}

/** A monitor on the services' database, Redis and gate whose ticks the test gives by hand. */
function handTurnedMonitor(services: Services) {
  const hand = handTicker();
  const stats = new SaleStats(
    services.redis ? new RedisSaleStatsStore(services.redis, prefix) : new LocalSaleStatsStore(),
  );
  const { db } = services.database;
  return {
    hand,
    stats,
    monitor: new SaleMonitor(db, stats, services.gates, undefined, hand.ticker),
  };
}

describe("the monitor is computed once per deal for all its viewers", () => {
  it("30 viewers of one deal cost one snapshot a tick, and the producer stops with the last", async () => {
    const services = instances[0] as Services;
    const { deal, staff } = await liveDeal(services, 3);
    const { hand, stats, monitor } = handTurnedMonitor(services);
    await monitor.snapshot(staff, deal.id); // the gate is loaded: every snapshot costs the same
    let queries = totalQueryCount();
    await monitor.snapshot(staff, deal.id);
    const perSnapshot = totalQueryCount() - queries;
    expect(perSnapshot).toBeGreaterThan(0);

    const controllers = Array.from({ length: 30 }, () => new AbortController());
    queries = totalQueryCount();
    const viewers = controllers.map((controller) =>
      monitor.watch(staff, deal.id, controller.signal)[Symbol.asyncIterator](),
    );
    const first = await Promise.all(viewers.map((viewer) => viewer.next()));
    expect(first.every((step) => step.value?.deal.id === deal.id)).toBe(true);
    for (let tick = 0; tick < 3; tick++) {
      hand.tick();
      await Promise.all(viewers.map((viewer) => viewer.next()));
    }
    // One snapshot at the first viewer and one per tick: 4, for 30 viewers (120 before).
    expect(totalQueryCount() - queries).toBe(4 * perSnapshot);
    expect(monitor.watchedDeals).toBe(1);

    for (const controller of controllers.slice(1)) controller.abort();
    expect(monitor.watchedDeals).toBe(1);
    controllers[0]?.abort();
    await Promise.all(viewers.map((viewer) => viewer.return(undefined)));
    expect(monitor.watchedDeals).toBe(0);
    expect(hand.running()).toBe(0);
    stats.stop();
  });

  it("a viewer of another merchant is refused the shared snapshot", async () => {
    const services = instances[0] as Services;
    const { deal, staff } = await liveDeal(services, 3);
    const { staff: stranger } = await createShopWithStaff(database.db, "Elsewhere");
    const { stats, monitor } = handTurnedMonitor(services);
    const own = monitor.watch(staff, deal.id, undefined)[Symbol.asyncIterator]();
    expect((await own.next()).value?.deal.id).toBe(deal.id);
    const foreign = monitor.watch(stranger, deal.id, undefined)[Symbol.asyncIterator]();
    await expect(foreign.next()).rejects.toMatchObject({ code: "NOT_YOURS" });
    await own.return(undefined);
    expect(monitor.watchedDeals).toBe(0);
    stats.stop();
  });
});

describe("monitor streams per account", () => {
  it("refuses a staff account's 6th monitor stream (429, typed, Retry-After); a closed stream frees its place", async () => {
    const services = instances[1] as Services;
    const { deal, staff } = await liveDeal(services, 3);
    const cookie = `dd_session=${await services.sessions.issue(staff)}`;
    const open = [];
    for (let i = 0; i < 5; i++) {
      const stream = await openMonitor(services, cookie, deal.id);
      expect(stream.status).toBe(200);
      expect(stream.text).toContain('"title":"Monitored deal"');
      open.push(stream);
    }
    const refused = await openMonitor(services, cookie, deal.id);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("10");
    expect(refused.text).toContain('"code":"TOO_MANY_REQUESTS"');
    expect(refused.text).toContain('"domainCode":"RATE_LIMITED"');
    expect(refused.text).toContain("Too many live streams are open for this account");
    await refused.close();

    await open[0]?.close();
    // The abort reaches the procedure's signal at once: the place is free for the next.
    const again = await openMonitor(services, cookie, deal.id);
    expect(again.status).toBe(200);
    expect(again.text).toContain('"title":"Monitored deal"');
    for (const stream of [...open.slice(1), again]) await stream.close();
    expect(services.streams.held({ address: "", accountId: staff.userId }).account).toBe(0);
  });
});

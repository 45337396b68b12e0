import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import { type LocalRedisCluster, startRedisCluster } from "@/testing/redis-cluster";
import {
  claimTruth,
  createDeal,
  createShoppers,
  createShopWithStaff,
} from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { ReadThroughCache } from "../cache/read-through-cache";
import { CLAIM_LIMITS } from "../claims/claim-limits";
import { gateKeys } from "../claims/gate-keys";
import { reconcileGates } from "../claims/reconciler";
import type { RedisClaimEngine } from "../claims/redis-claim-engine";
import { parseEnv } from "../env";
import { DomainError } from "../errors";
import { RedisRateLimiter } from "../rate-limit/rate-limiter";
import { mastersOf } from "../redis/client";

/**
 * The app on a real Redis Cluster: three masters of this file's own, the real services, a
 * scratch Postgres database. Deals are spread over every master, so each script, pipeline and
 * lock must stay within one deal's slot, and anything that loads a script or lists keys must
 * reach every master.
 */
const PREFIX = "scale:";
const SHOPPERS = 120;
/** Quantities of the sale's deals, in turn: some sell out, the last outlasts the shoppers. */
const QUANTITIES = [3, 25, 60, 400];

let cluster: LocalRedisCluster;
let database: TestDatabase;
let services: Services;
let redis: Cluster;
let merchantId: string;
let staff: Awaited<ReturnType<typeof createShopWithStaff>>["staff"];
let shoppers: string[];
let shoppersTaken = 0;

/** Shoppers no earlier test has used. */
function takeShoppers(howMany: number): string[] {
  const taken = shoppers.slice(shoppersTaken, shoppersTaken + howMany);
  shoppersTaken += howMany;
  if (taken.length < howMany) throw new Error("the test file needs more shoppers");
  return taken;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  database = await createTestDatabase();
  services = await createServices(
    parseEnv({
      DATABASE_URL: database.url,
      REDIS_CLUSTER_NODES: cluster.nodes.join(","),
      REDIS_KEY_PREFIX: PREFIX,
      DEMO_SEED: "off",
      LOG_LEVEL: "silent",
    }),
  );
  if (!(services.redis instanceof Cluster)) throw new Error("the services are not on the cluster");
  redis = services.redis;
  const shop = await createShopWithStaff(database.db);
  merchantId = shop.merchant.id;
  staff = shop.staff;
  shoppers = await createShoppers(database.db, SHOPPERS + 40);
});

afterAll(async () => {
  await services?.stop();
  await cluster?.stop();
  await database?.drop();
});

/** The master ("host:port") that serves a deal's gate keys, from the client's slot map. */
async function masterOfDeal(dealId: string): Promise<string> {
  const slot = (await redis.cluster("KEYSLOT", gateKeys(PREFIX, dealId).meta)) as number;
  return redis.slots[slot]?.[0] ?? "unknown";
}

/** Deals until every master serves at least one (and at least one deal per quantity). */
async function dealsOnEveryMaster() {
  const masters = new Set(
    mastersOf(redis).map((node) => `${node.options.host}:${node.options.port}`),
  );
  const covered = new Set<string>();
  const deals: { id: string; quantity: number }[] = [];
  while (deals.length < QUANTITIES.length || covered.size < masters.size) {
    if (deals.length >= 40) throw new Error("40 deals and still a master without one");
    const quantity = QUANTITIES[deals.length % QUANTITIES.length] as number;
    const deal = await createDeal(database.db, merchantId, { quantity, now: new Date() });
    deals.push(deal);
    covered.add(await masterOfDeal(deal.id));
  }
  return deals;
}

/** Attempts sent per deal, retries included: what the sale monitor counts. */
const attemptsSent = new Map<string, number>();

/**
 * A claim as the shopper's app makes it: an UNAVAILABLE answer ("still being recorded" while
 * the first click's row is written on a busy machine) is sent again with the same key.
 */
async function claimAsTheAppDoes(
  userId: string,
  input: { dealId: string; idempotencyKey: string },
  ip: string,
): Promise<ClaimResult> {
  const giveUpAt = Date.now() + 30_000;
  for (;;) {
    attemptsSent.set(input.dealId, (attemptsSent.get(input.dealId) ?? 0) + 1);
    try {
      return await services.claims.claim(userId, input, ip);
    } catch (error) {
      if (!DomainError.is(error) || error.code !== "UNAVAILABLE" || Date.now() > giveUpAt) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A shopper's own address, so the per-address limit does not decide this sale. */
const addressOf = (index: number) => `10.7.${Math.floor(index / 200)}.${index % 200}`;

/** Gate keys found by scanning each master itself, counted per master. */
async function gateKeysPerMaster(): Promise<number[]> {
  return Promise.all(
    mastersOf(redis).map(async (node) => {
      let found = 0;
      const stream = node.scanStream({ match: `${PREFIX}{deal:*}:meta`, count: 500 });
      for await (const keys of stream as AsyncIterable<string[]>) found += keys.length;
      return found;
    }),
  );
}

describe("the gate on a Redis Cluster", () => {
  it("sells deals spread over every master exactly: min(quantity, shoppers) winners, one per shopper, gate and Postgres agree", async () => {
    const deals = await dealsOnEveryMaster();
    const buyers = takeShoppers(SHOPPERS);
    // Warm gates, as creation and the pre-start sweep leave them (the fixture writes the deals
    // behind the app's back): this test is about the cluster, not about loading under a burst.
    await Promise.all(deals.map((deal) => services.engine.prepare(deal.id)));

    // Every shopper tries every deal three times at once: a click, its retry with the same
    // key, and a second click with a new key.
    const attempts = deals.flatMap((deal) =>
      buyers.flatMap((userId, index) =>
        ["a", "a", "b"].map((key) => ({ dealId: deal.id, userId, key, ip: addressOf(index) })),
      ),
    );
    const answers = await Promise.all(
      attempts.map(({ dealId, userId, key, ip }) =>
        claimAsTheAppDoes(userId, { dealId, idempotencyKey: `${key}-${userId}` }, ip)
          .then((result): ClaimResult | string => result)
          .catch((error: unknown) => `error: ${String(error)}`),
      ),
    );
    expect(answers.filter((answer) => typeof answer === "string")).toEqual([]);
    // The monitor shows whole seconds only: let the last second of the sale end.
    await new Promise((resolve) => setTimeout(resolve, 1_010 - (Date.now() % 1_000)));

    for (const deal of deals) {
      const mine = answers.filter((_, i) => attempts[i]?.dealId === deal.id) as ClaimResult[];
      const winners = new Set(mine.flatMap((a) => (a.outcome === "WON" ? [a.claimId] : [])));
      const expected = Math.min(deal.quantity, buyers.length);
      expect(winners.size, `winners of a deal of ${deal.quantity}`).toBe(expected);

      const truth = await claimTruth(database.db, deal.id);
      expect(truth).toMatchObject({ activeClaims: expected, soldCounter: expected });
      expect(truth.usersWithTwoClaims).toBe(0);

      const gate = await services.gates.status(deal.id);
      expect(gate).toMatchObject({ pendingAtGate: 0, consistent: true });
      expect((gate.remainingAtGate ?? Number.NaN) + gate.activeClaims).toBe(deal.quantity);

      // The sale monitor's counts, flushed per deal to the deal's own master, saw every attempt.
      const snapshot = await services.monitor.snapshot(staff, deal.id);
      expect(snapshot.seconds.reduce((sum, second) => sum + second.total, 0)).toBe(
        attemptsSent.get(deal.id),
      );
    }

    const perMaster = await gateKeysPerMaster();
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(perMaster.reduce((sum, n) => sum + n, 0)).toBe(deals.length);
  });

  it("gives a cancelled claim's unit back to the gate, and live stock tells the deal's watchers", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 2, now: new Date() });
    const [first, second, late] = takeShoppers(3) as [string, string, string];
    const won = await services.claims.claim(first, { dealId: deal.id, idempotencyKey: "k1" });
    await services.claims.claim(second, { dealId: deal.id, idempotencyKey: "k2" });
    expect(await services.claims.claim(late, { dealId: deal.id, idempotencyKey: "k3" })).toEqual({
      outcome: "SOLD_OUT",
    });
    if (won.outcome !== "WON") throw new Error(`the first shopper got ${won.outcome}`);

    const seen: number[] = [(await services.stock.current(deal.id)).remaining];
    let watchTimeout: NodeJS.Timeout | undefined;
    const watcher = new Promise<void>((resolve) => {
      watchTimeout = setTimeout(resolve, 5_000);
      const stop = services.stock.listen(deal.id, (update) => {
        seen.push(update.remaining);
        if (update.remaining === 1) {
          stop();
          resolve();
        }
      });
    });
    await services.stock.listening(deal.id);

    await services.claims.cancel(first, won.claimId);
    await watcher;
    clearTimeout(watchTimeout);
    // The wins' own update (0) may still arrive after the subscription: only counts of 0
    // before the cancellation's 1.
    expect(seen.at(-1)).toBe(1);
    expect(seen.slice(0, -1).every((remaining) => remaining === 0)).toBe(true);
    expect(await services.gates.status(deal.id)).toMatchObject({
      remainingAtGate: 1,
      activeClaims: 1,
      consistent: true,
    });
    expect(
      await services.claims.claim(late, { dealId: deal.id, idempotencyKey: "k4" }),
    ).toMatchObject({
      outcome: "WON",
    });
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 2,
      soldCounter: 2,
    });
  });

  it("reconciles every gate on every master: an abandoned reservation goes back, then a run finds nothing to do", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 5, now: new Date() });
    const [shopper] = takeShoppers(1) as [string];
    // The gate said yes, then the process "crashed" before writing the claim to Postgres.
    await (services.engine as RedisClaimEngine).reserveAtGate({
      dealId: deal.id,
      userId: shopper,
      idempotencyKey: "crashed",
      now: new Date(),
    });
    expect(await services.gates.status(deal.id)).toMatchObject({
      remainingAtGate: 4,
      pendingAtGate: 1,
    });

    const reconcile = () =>
      reconcileGates({ redis, db: database.db, keyPrefix: PREFIX, graceMs: 0 });
    const first = await reconcile();
    expect(first).toMatchObject({ released: 1, confirmed: 0, rebuilt: 0 });
    expect(await services.gates.status(deal.id)).toMatchObject({
      remainingAtGate: 5,
      pendingAtGate: 0,
      consistent: true,
    });
    const second = await reconcile();
    expect(second).toEqual({ deals: first.deals, released: 0, confirmed: 0, rebuilt: 0 });
    expect(second.deals).toBe((await gateKeysPerMaster()).reduce((sum, n) => sum + n, 0));
  });

  it("limits claim attempts per shopper and per address", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 1_000, now: new Date() });
    const tryClaim = (userId: string, key: string, ip: string) =>
      services.claims
        .claim(userId, { dealId: deal.id, idempotencyKey: key }, ip)
        .then((result) => result.outcome)
        .catch((error: unknown) => (DomainError.is(error) ? error.code : String(error)));

    const [eager] = takeShoppers(1) as [string];
    const outcomes: string[] = [];
    for (let i = 0; i <= CLAIM_LIMITS.perShopper; i++) {
      outcomes.push(await tryClaim(eager, `click-${i}`, "10.8.0.1"));
    }
    expect(outcomes.slice(0, CLAIM_LIMITS.perShopper)).not.toContain("RATE_LIMITED");
    expect(outcomes.at(-1)).toBe("RATE_LIMITED");

    // One address: 30 shoppers use up its limit; the next attempt from it is refused.
    const venue = takeShoppers(30);
    const attemptsEach = CLAIM_LIMITS.perAddress / venue.length;
    await Promise.all(
      venue.map(async (userId) => {
        for (let i = 0; i < attemptsEach; i++) await tryClaim(userId, `venue-${i}`, "10.8.0.2");
      }),
    );
    const [oneMore] = takeShoppers(1) as [string];
    expect(await tryClaim(oneMore, "venue-last", "10.8.0.2")).toBe("RATE_LIMITED");
  });

  it("keeps the sign-in rate limiter and the shared read-through cache on the cluster", async () => {
    // The limiter sign-in uses: its own script, on whichever master holds the counter.
    const limiter = new RedisRateLimiter(redis, PREFIX);
    const key = `sign-in:${newId()}`;
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push((await limiter.hit(key, 2, 10_000)).allowed);
    expect(hits).toEqual([true, true, false]);

    // Two instances' caches: the second is answered by the first's entry in the cluster.
    let loads = 0;
    const load = async () => ({ loaded: ++loads });
    const caches = [1, 2].map(
      () =>
        new ReadThroughCache({
          redis,
          keyPrefix: PREFIX,
          ttlMs: 5_000,
          localTtlMs: 1_000,
          rebuildLockMs: 1_000,
        }),
    );
    const cacheKey = `deal:${newId()}`;
    for (const cache of caches) expect(await cache.get(cacheKey, load)).toEqual({ loaded: 1 });
    expect(loads).toBe(1);
  });
});

// Last, as it stops the cluster for good.
describe("a Redis Cluster that is gone", () => {
  it("fails a claim fast instead of queueing it, and writes nothing", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 5, now: new Date() });
    await services.gateLoader?.ensureLoaded(deal.id);
    await cluster.stop();

    const started = Date.now();
    const refused = await services.claims
      .claim(takeShoppers(1)[0] as string, { dealId: deal.id, idempotencyKey: "gone" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 0,
      soldCounter: 0,
    });
  }, 10_000);
});

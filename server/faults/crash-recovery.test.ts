import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClaimWorker, startClaimWorker } from "@/testing/claim-worker-process";
import { faultEnv, gateCount, waitFor, waitForStatementsToSettle } from "@/testing/fault-sale";
import { type PrivateRedis, startPrivateRedis } from "@/testing/private-redis";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { reconcileGates } from "../claims/reconciler";
import { RedisGateLoader } from "../claims/redis-gate-loader";

/**
 * An app instance dies with kill -9 in the middle of a burst (DESIGN.md, invariants 1 and 4):
 * grants it took at the gate may have no claim row yet, and rows it wrote may still carry
 * their pending mark. After the reconciler has run, the gate and Postgres agree exactly, and
 * a restarted instance sells the rest without overselling.
 */
describe("kill -9 of an app instance mid-load", () => {
  const KEY_PREFIX = "crash:";
  const QUANTITY = 500;
  let database: TestDatabase;
  let redis: PrivateRedis;
  let redisClient: Redis;
  let merchantId: string;
  const workers: ClaimWorker[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startPrivateRedis();
    redisClient = new Redis(redis.url);
    merchantId = (await createMerchant(database.db)).id;
    await createShoppers(database.db, 700);
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    redisClient?.disconnect();
    await redis?.stop();
    await database?.drop();
  });

  const appInstance = (dealId: string) => {
    const worker = startClaimWorker({
      env: faultEnv({ databaseUrl: database.url, redisUrl: redis.url, keyPrefix: KEY_PREFIX }),
      dealId,
      concurrency: 64,
    });
    workers.push(worker);
    return worker;
  };

  /** What the reconciler does on every instance, with the grace period shortened to nothing. */
  const reconcile = () =>
    reconcileGates({ redis: redisClient, db: database.db, keyPrefix: KEY_PREFIX, graceMs: 0 });

  const gateAndTruth = async (dealId: string) => {
    await new RedisGateLoader(redisClient, database.db, KEY_PREFIX).ensureLoaded(dealId);
    return {
      gate: await gateCount(redisClient, KEY_PREFIX, dealId),
      truth: await claimTruth(database.db, dealId),
    };
  };

  it("after the reconciler runs, remaining + claims == quantity exactly; a restarted instance sells out, no oversell", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: QUANTITY, now: new Date() });

    // One instance claims for 700 shoppers, 64 at a time, and is killed once 100 have won.
    const doomed = appInstance(deal.id);
    // It dies with grants in flight: right after the gate is seen holding some pending.
    await doomed.until("100 wins", (tally) => (tally.outcomes.WON ?? 0) >= 100);
    await waitFor(
      "grants in flight",
      async () => (await gateCount(redisClient, KEY_PREFIX, deal.id)).pending >= 3,
    );
    await doomed.kill();
    expect(doomed.tally.done).toBe(false);

    // The crash left grants in flight: pending marks the instance never cleared.
    const left = await gateCount(redisClient, KEY_PREFIX, deal.id);
    expect(left.pending).toBeGreaterThan(0);

    // Postgres may still finish statements the dead instance sent (the real grace period
    // covers that); then the reconciler settles every pending mark.
    await waitForStatementsToSettle(database.db, database.name);
    const report = await reconcile();
    expect(report.confirmed + report.released).toBe(left.pending);
    const afterCrash = await gateAndTruth(deal.id);
    expect(afterCrash.gate).toEqual({
      remaining: QUANTITY - afterCrash.truth.activeClaims,
      pending: 0,
    });
    expect(afterCrash.truth).toMatchObject({
      soldCounter: afterCrash.truth.activeClaims,
      usersWithTwoClaims: 0,
    });

    // The instance restarts and goes through every shopper again, with the same keys:
    // the first run's winners get their claim back, the rest win until the deal is sold out.
    const restarted = appInstance(deal.id);
    await restarted.until("every shopper answered", (tally) => tally.done);
    expect(await restarted.exited()).toBe(0);
    expect(restarted.tally.errors).toEqual([]);
    expect(restarted.tally.outcomes.WON).toBe(QUANTITY);

    await reconcile();
    const end = await gateAndTruth(deal.id);
    expect(end.truth).toEqual({
      activeClaims: QUANTITY,
      soldCounter: QUANTITY,
      quantity: QUANTITY,
      usersWithTwoClaims: 0,
    });
    expect(end.gate).toEqual({ remaining: 0, pending: 0 });
  }, 45_000);
});

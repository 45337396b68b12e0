import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import {
  activeClaimIds,
  attemptsOf,
  claimWave,
  type FaultWorld,
  gateCount,
  startFaultWorld,
  unavailable,
  untypedErrors,
  waitFor,
  wins,
} from "@/testing/fault-sale";
import type { PrivateRedis } from "@/testing/private-redis";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import type { TestDatabase } from "@/testing/test-database";
import type { Services } from "@/testing/wired-services";
import { reconcileGates } from "../claims/reconciler";
import { DomainError } from "../errors";

/**
 * Redis is derived state (DESIGN.md, invariant 4): losing it, or losing the connection to
 * it, must never oversell and must heal by itself. The Redis here is a private
 * redis-server this file kills with SIGKILL; the shared one is never touched.
 */
describe("Redis faults", () => {
  const KEY_PREFIX = "fault:";
  let world: FaultWorld;
  let database: TestDatabase;
  let redis: PrivateRedis;
  let services: Services;
  let merchantId: string;
  let shoppers: string[];

  beforeAll(async () => {
    world = await startFaultWorld({ keyPrefix: KEY_PREFIX, redis: true });
    ({ database } = world);
    redis = world.redis as PrivateRedis;
    services = await world.startApp();
    merchantId = (await createMerchant(database.db)).id;
    shoppers = await createShoppers(database.db, 400);
  });
  afterAll(() => world?.stop());

  const appRedis = () => {
    if (!services.redis) throw new Error("the services run without Redis");
    return services.redis;
  };

  it("heals a Redis that restarts empty mid-sale: the gate reloads from Postgres, the sale sells out exactly", async () => {
    const quantity = 100;
    const deal = await createDeal(database.db, merchantId, { quantity, now: new Date() });
    const early = await claimWave(
      services.claims,
      deal.id,
      attemptsOf(shoppers.slice(0, 30), "a"),
      16,
    );
    expect(wins(early)).toHaveLength(30);

    // Kill -9 while 32 claims are in flight; it comes back on the same port with no data:
    // no gate, no scripts, no rate-limit windows.
    let answered = 0;
    let wonAfterRestart = 0;
    let restarted = false;
    const midSale = claimWave(
      services.claims,
      deal.id,
      attemptsOf(shoppers.slice(30, 230), "b"),
      32,
      {
        // Shoppers retry as told: with Redis away each attempt is refused at once, so only
        // retries carry the wave across the restart.
        retryUnavailableForMs: 10_000,
        onAnswer: (attempt) => {
          answered++;
          if (restarted && attempt.result?.outcome === "WON") wonAfterRestart++;
        },
      },
    );
    await waitFor("the second wave to be under way", () => answered >= 20);
    await redis.kill();
    await redis.restart();
    restarted = true;
    const during = await midSale;

    // The sale went on after the restart (the gate was rebuilt from Postgres). Claims that
    // fell into the gap were told to retry; they do, with the same key, and fresh shoppers
    // keep coming until the deal is sold out.
    expect(wonAfterRestart).toBeGreaterThan(0);
    expect(untypedErrors(during)).toEqual([]);
    const failed = unavailable(during);
    const asShoppersDo = { retryUnavailableForMs: 10_000 };
    const retried = await claimWave(services.claims, deal.id, failed, 16, asShoppersDo);
    const late = await claimWave(
      services.claims,
      deal.id,
      attemptsOf(shoppers.slice(230), "c"),
      16,
      asShoppersDo,
    );
    const answers = [...early, ...during, ...retried, ...late];
    expect(untypedErrors([...retried, ...late])).toEqual([]);

    // Postgres: never more than the quantity, one claim per shopper, each win has its row.
    const truth = await claimTruth(database.db, deal.id);
    expect(truth.usersWithTwoClaims).toBe(0);
    expect(truth.soldCounter).toBe(truth.activeClaims);
    expect(truth.activeClaims).toBeLessThanOrEqual(quantity);
    const rows = await activeClaimIds(database.db, deal.id);
    for (const won of wins(answers)) expect(rows).toContain(won.claimId);

    // After reconciliation the gate agrees with Postgres, and no unit was lost on the way:
    // with shoppers to spare, every unit is sold.
    await reconcileGates({ redis: appRedis(), db: database.db, keyPrefix: KEY_PREFIX, graceMs: 0 });
    await services.gateLoader?.ensureLoaded(deal.id);
    const gate = await gateCount(appRedis(), KEY_PREFIX, deal.id);
    expect(gate.pending).toBe(0);
    expect((gate.remaining ?? Number.NaN) + truth.activeClaims).toBe(quantity);
    expect(truth.activeClaims).toBe(quantity);
  });

  describe("while Redis is unreachable", () => {
    const shopperAddress = "10.9.9.9";
    /** A claim a timed-out test left waiting on the dead Redis; settled before the next test. */
    let stillWaiting: Promise<unknown> = Promise.resolve();

    // Each test starts from a healthy app, connected to a running Redis, and leaves Redis
    // running even when it fails halfway.
    beforeEach(async () => {
      await waitFor("the app to be connected to Redis", () => appRedis().status === "ready");
    });
    afterEach(async () => {
      await redis.ensureRunning();
      await stillWaiting;
    });

    // Before the client stopped queueing once connected (server/redis/client.ts), the n-th
    // retry waited out n more reconnect attempts: 0.4 s, 1.7 s, 10 s, 15 s measured.
    it("refuses claims fast with UNAVAILABLE and a retry hint, and writes nothing", async () => {
      const deal = await createDeal(database.db, merchantId, { quantity: 5, now: new Date() });
      const attempt = { dealId: deal.id, idempotencyKey: `unreachable-${newId()}` };
      await services.gateLoader?.ensureLoaded(deal.id);

      // Redis dies and stays down. A shopper who retries as told must be answered each time,
      // typed and at once (this test's timeout bounds "at once"): not left hanging, not
      // given a 500.
      await redis.kill();
      for (let retry = 0; retry < 3; retry++) {
        const claim = services.claims.claim(shoppers[0] as string, attempt, shopperAddress);
        stillWaiting = claim.catch(() => undefined);
        const refused = await claim.catch((error: unknown) => error);
        expect(DomainError.is(refused) && refused.code).toBe("UNAVAILABLE");
        expect(DomainError.is(refused) && refused.details.retryAfterMs).toBeGreaterThan(0);
      }
      expect(await claimTruth(database.db, deal.id)).toMatchObject({
        activeClaims: 0,
        soldCounter: 0,
      });
    }, 3_000);

    it("claims work again once Redis is back, without restarting the app", async () => {
      const deal = await createDeal(database.db, merchantId, { quantity: 5, now: new Date() });
      const shopper = shoppers[1] as string;
      const attempt = { dealId: deal.id, idempotencyKey: `comes-back-${newId()}` };

      await redis.kill();
      await services.claims.claim(shopper, attempt, shopperAddress).catch(() => undefined);
      expect((await claimTruth(database.db, deal.id)).activeClaims).toBe(0);

      // Redis comes back, empty. The same services reconnect by themselves, and the
      // shopper's retry with the same key wins.
      await redis.restart();
      let retry: Awaited<ReturnType<typeof services.claims.claim>> | undefined;
      await waitFor("a claim to succeed once Redis is back", async () => {
        retry = await services.claims
          .claim(shopper, attempt, shopperAddress)
          .catch(() => undefined);
        return retry !== undefined;
      });
      expect(retry).toMatchObject({ outcome: "WON", replayed: false });
      expect(await claimTruth(database.db, deal.id)).toMatchObject({
        activeClaims: 1,
        soldCounter: 1,
      });
    }, 15_000);
  });
});

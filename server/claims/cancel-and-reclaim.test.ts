import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";

/**
 * The fraud the rule "one voucher per shopper per deal, ever" (invariant 10) closes: show the
 * voucher at an offline counter, cancel it online, claim the unit that came back, and walk
 * out with two. A cancelled voucher's unit goes to someone else; its shopper is refused.
 */
let database: TestDatabase;
let testRedis: TestRedis;
const engines: Record<string, Services> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  testRedis = createTestRedis();
  const env = { DATABASE_URL: database.url, DEMO_SEED: "off" as const, LOG_LEVEL: "silent" };
  engines.redis = await createServices(
    parseEnv({ ...env, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: testRedis.prefix }),
  );
  engines.embedded = await createServices(parseEnv(env));
});
afterAll(async () => {
  for (const services of Object.values(engines)) await services.stop();
  await testRedis?.cleanUp();
  await database?.drop();
});

describe.each(["redis", "embedded"])("cancel and claim again, %s gate", (engine) => {
  it("a shopper who cancelled their voucher is refused the deal's returned unit; another shopper gets it", async () => {
    const services = engines[engine] as Services;
    const merchant = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchant.id, { quantity: 3, now: new Date() });
    const [fraudster = "", second = "", third = "", honest = ""] = await createShoppers(
      database.db,
      4,
    );
    const claim = (userId: string) =>
      services.claims.claim(userId, { dealId: deal.id, idempotencyKey: newId() });

    const first = await claim(fraudster);
    if (first.outcome !== "WON") throw new Error(first.outcome);
    expect(first.voucherId).toEqual(expect.any(String));
    await claim(second);
    await claim(third);
    expect(await claim(honest)).toEqual({ outcome: "SOLD_OUT" });

    await services.claims.cancel(fraudster, first.claimId);
    expect(await claim(fraudster)).toEqual({
      outcome: "ALREADY_CANCELLED",
      claimId: first.claimId,
    });
    expect(await claim(honest)).toMatchObject({ outcome: "WON" });
    expect(await claim(fraudster)).toMatchObject({ outcome: "ALREADY_CANCELLED" });
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 3,
      soldCounter: 3,
    });
  });
});

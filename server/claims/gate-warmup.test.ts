import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import type { CreateDealInput } from "@/lib/deals/deal-rules";
import { newId } from "@/lib/ids";
import {
  claimTruth,
  createDeal,
  createShoppers,
  createShopWithStaff,
} from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";
import { type AttemptOutcome, outcomeOfError } from "./claim-observer";
import { gateKeys } from "./gate-keys";

/**
 * A sale's first second must meet a warm gate: loading it from Postgres under the opening
 * burst is what made the load shedder refuse shoppers while units were left. The gate is
 * loaded when a deal is created or edited, and by the pre-start sweep.
 */
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
let database: TestDatabase;
let testRedis: TestRedis;
let services: Services;
let staff: Awaited<ReturnType<typeof createShopWithStaff>>["staff"];

beforeAll(async () => {
  database = await createTestDatabase();
  testRedis = createTestRedis();
  services = await createServices(
    parseEnv({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: testRedis.prefix,
      DEMO_SEED: "off",
      LOG_LEVEL: "silent",
    }),
  );
  staff = (await createShopWithStaff(database.db)).staff;
});
afterAll(async () => {
  await services?.stop();
  await testRedis?.cleanUp();
  await database?.drop();
});

const dealFields = (startsAt: Date, quantity: number): CreateDealInput => ({
  title: "Opening-day croissants",
  description: "",
  priceCents: 0,
  originalPriceCents: null,
  quantity,
  startsAt,
  endsAt: new Date(startsAt.getTime() + 60 * MINUTE),
  voucherValidUntil: new Date(startsAt.getTime() + 24 * 60 * MINUTE),
  location: { lat: 52.37, lng: 4.89 },
  geofenceRadiusM: null,
});

/** The gate's own record of a deal in Redis, read directly: null when it is not loaded. */
async function gateOf(dealId: string) {
  const meta = await testRedis.redis.hgetall(gateKeys(testRedis.prefix, dealId).meta);
  return Object.keys(meta).length === 0 ? null : meta;
}

describe("a deal's gate is loaded before its sale starts", () => {
  it("at creation: a deal starting in 30 s has its gate open, with all its stock, before any claim", async () => {
    const deal = await services.dealManagement.create(
      staff,
      dealFields(new Date(Date.now() + 30 * SECOND), 7),
    );
    expect(await gateOf(deal.id)).toMatchObject({ remaining: "7", quantity: "7", state: "active" });
  });

  it("at an edit: a deal whose gate was lost is loaded again with the edited quantity", async () => {
    const deal = await services.dealManagement.create(
      staff,
      dealFields(new Date(Date.now() + 5 * MINUTE), 4),
    );
    await services.gateLoader?.unload(deal.id); // as if Redis restarted since creation
    expect(await gateOf(deal.id)).toBeNull();
    await services.dealManagement.update(staff, { dealId: deal.id, changes: { quantity: 9 } });
    expect(await gateOf(deal.id)).toMatchObject({ remaining: "9", quantity: "9" });
  });

  it("by the pre-start sweep: deals starting within ten minutes, and running ones; not later ones", async () => {
    const { merchant } = await createShopWithStaff(database.db);
    const now = new Date();
    const soon = await createDeal(database.db, merchant.id, {
      quantity: 3,
      now,
      startsInMinutes: 5,
    });
    const running = await createDeal(database.db, merchant.id, { quantity: 3, now });
    const later = await createDeal(database.db, merchant.id, {
      quantity: 3,
      now,
      startsInMinutes: 120,
    });
    expect(await gateOf(soon.id)).toBeNull();
    const swept = await services.sweep();
    expect(swept.gatesWarmed).toBeGreaterThanOrEqual(2);
    expect(await gateOf(soon.id)).toMatchObject({ remaining: "3", state: "active" });
    expect(await gateOf(running.id)).toMatchObject({ remaining: "3" });
    expect(await gateOf(later.id)).toBeNull();
  });
});

describe("the opening burst on a warm server", () => {
  it("answers 3,000 attempts in flight at once with no SHED while units remain: exactly the stock wins", async () => {
    const quantity = 1_000;
    const shoppers = await createShoppers(database.db, 3_000);
    const deal = await services.dealManagement.create(
      staff,
      dealFields(new Date(Date.now() - SECOND), quantity),
    );
    expect(await gateOf(deal.id)).toMatchObject({ remaining: String(quantity) });

    // Every shopper at once, each from an address of its own (the per-address limit is not
    // what this test is about); all admitted by the production load shedder.
    const outcomes = await Promise.all(
      shoppers.map((userId, i) =>
        services.claims
          .claim(
            userId,
            { dealId: deal.id, idempotencyKey: newId() },
            `10.9.${Math.floor(i / 250)}.${i % 250}`,
          )
          .then((result: ClaimResult): AttemptOutcome => result.outcome)
          .catch(outcomeOfError),
      ),
    );
    const tally = new Map<AttemptOutcome, number>();
    for (const outcome of outcomes) tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
    expect(Object.fromEntries(tally)).toEqual({ WON: quantity, SOLD_OUT: 2_000 });
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: quantity,
      soldCounter: quantity,
      usersWithTwoClaims: 0,
    });
  });
});

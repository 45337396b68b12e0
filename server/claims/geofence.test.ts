import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deals } from "@/db/schema";
import { newId } from "@/lib/ids";
import { parseEnv } from "../env";
import { createServices, type Services } from "../services";
import { claimTruth, createDeal, createMerchant, createShoppers } from "../testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "../testing/test-database";

let database: TestDatabase;
let services: Services;

beforeAll(async () => {
  database = await createTestDatabase();
  services = await createServices(parseEnv({ DATABASE_URL: database.url, DEMO_SEED: "off" }));
});
afterAll(async () => {
  await services?.stop();
  await database?.drop();
});

describe("a deal with a geo-fence", () => {
  it("is claimed only from within its radius, by the reported position; others get a typed refusal and change nothing", async () => {
    const merchant = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchant.id, { quantity: 5, now: new Date() });
    // 300 m around the shop at 52.37, 4.89.
    await database.db.update(deals).set({ geofenceRadiusM: 300 }).where(eq(deals.id, deal.id));
    const [near = "", far = "", silent = ""] = await createShoppers(database.db, 3);
    const claim = (userId: string, position?: { lat: number; lng: number }) =>
      services.claims.claim(userId, { dealId: deal.id, idempotencyKey: newId(), position });

    await expect(claim(far, { lat: 52.38, lng: 4.89 })).rejects.toMatchObject({
      code: "OUT_OF_AREA",
      message: "This deal can only be claimed within 300 m of the shop; you are 1.1 km away.",
    });
    await expect(claim(silent)).rejects.toMatchObject({ code: "OUT_OF_AREA" });
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 0,
      soldCounter: 0,
    });

    expect(await claim(near, { lat: 52.3712, lng: 4.8905 })).toMatchObject({ outcome: "WON" });
  });

  it("leaves deals without a fence open to claims that send no position", async () => {
    const merchant = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchant.id, { quantity: 1, now: new Date() });
    const [shopper = ""] = await createShoppers(database.db, 1);
    expect(
      await services.claims.claim(shopper, { dealId: deal.id, idempotencyKey: newId() }),
    ).toMatchObject({ outcome: "WON" });
  });
});

import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/db/query-count";
import { deals } from "@/db/schema";
import { newId } from "@/lib/ids";
import { ReadThroughCache } from "../cache/read-through-cache";
import { createDeal, createMerchant } from "../testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "../testing/test-database";
import { createTestRedis, type TestRedis } from "../testing/test-redis";
import { DealDiscovery } from "./deal-discovery";

let database: TestDatabase;
let testRedis: TestRedis;
const now = new Date();

/** An app instance's view: its own in-process cache, the shared Redis. */
function instance() {
  const cache = new ReadThroughCache({
    redis: testRedis.redis,
    keyPrefix: testRedis.prefix,
    ttlMs: 5_000,
    localTtlMs: 1_000,
    rebuildLockMs: 2_000,
  });
  return { cache, discovery: new DealDiscovery(database.db, cache, () => now) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  testRedis = createTestRedis();
});
afterAll(async () => {
  await testRedis?.cleanUp();
  await database?.drop();
});

async function dealAt(lat: number, lng: number, title: string) {
  const merchant = await createMerchant(database.db);
  const deal = await createDeal(database.db, merchant.id, { quantity: 5, now });
  await database.db.update(deals).set({ lat, lng, title }).where(eq(deals.id, deal.id));
  return deal.id;
}

describe("deals near a point", () => {
  it("lists deals within the radius, nearest first, with their distance", async () => {
    // Around a point in the sea off Scheveningen, so no other test's deals are near.
    const origin = { lat: 52.2, lng: 4.1 };
    await dealAt(52.2, 4.13, "about 2 km east");
    await dealAt(52.2045, 4.1, "about 0.5 km north");
    await dealAt(52.3, 4.1, "about 11 km north");
    const { discovery } = instance();
    const found = await discovery.near({ ...origin, radiusKm: 5 });
    expect(found.map((deal) => deal.title)).toEqual(["about 0.5 km north", "about 2 km east"]);
    expect(found[0]?.distanceKm).toBeCloseTo(0.5, 1);
    expect(found[1]?.distanceKm).toBeCloseTo(2.05, 1);
    const wider = await discovery.near({ ...origin, radiusKm: 15 });
    expect(wider).toHaveLength(3);
  });

  it("N concurrent misses on two instances cost the database one query", async () => {
    await dealAt(51.0, 3.0, "stampede");
    const a = instance();
    const b = instance();
    const input = { lat: 51.0, lng: 3.0, radiusKm: 3 };
    const { result, queries } = await countQueries(() =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).discovery.near(input)),
      ),
    );
    expect(result.every((found) => found.length === 1 && found[0]?.title === "stampede")).toBe(
      true,
    );
    expect(queries).toBe(1);
  });

  it("caches an unknown id as a miss, and a change is seen after invalidation", async () => {
    const { discovery, cache } = instance();
    const unknown = newId();
    const misses = await countQueries(async () => {
      for (let i = 0; i < 5; i++) {
        await expect(discovery.byId(unknown)).rejects.toMatchObject({ code: "NOT_FOUND" });
      }
    });
    expect(misses.queries).toBe(1);

    const dealId = await dealAt(50.5, 3.5, "before");
    expect((await discovery.byId(dealId)).title).toBe("before");
    await database.db.update(deals).set({ title: "after" }).where(eq(deals.id, dealId));
    expect((await discovery.byId(dealId)).title).toBe("before");
    await cache.invalidateAll();
    expect((await discovery.byId(dealId)).title).toBe("after");
    // Another instance sees the new generation too.
    expect((await instance().discovery.byId(dealId)).title).toBe("after");
  });
});

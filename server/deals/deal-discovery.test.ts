import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deals } from "@/db/schema";
import { destinationPoint, distanceKm, initialBearing } from "@/lib/geo";
import { newId } from "@/lib/ids";
import { countQueries } from "@/testing/query-count";
import { createDeal, createMerchant } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, type TestRedis } from "@/testing/test-redis";
import { ReadThroughCache } from "../cache/read-through-cache";
import { DealDiscovery } from "./deal-discovery";
import { nearCell, RADIUS_STEPS_KM } from "./near-cell";
import { ReadReplica } from "./read-replica";

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
  return {
    cache,
    discovery: new DealDiscovery(ReadReplica.primaryOnly(database.db), cache, () => now),
  };
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

/** Spread evenly over the range (fc.double favours values near zero, which sit on the grid). */
const uniform = (min: number, max: number) =>
  fc.integer({ min: 0, max: 1_000_000_000 }).map((n) => min + ((max - min) * n) / 1_000_000_000);

describe("the near cache's key space is finite and loses no deal", () => {
  it("a cell's candidates reach every point within the asked radius of the asked point", () => {
    fc.assert(
      fc.property(
        uniform(-89.9, 89.9),
        uniform(-180, 180),
        uniform(0.001, 50),
        fc.oneof(fc.constant(1), uniform(0, 1)),
        uniform(-0.2, 0.2),
        (lat, lng, radiusKm, share, turn) => {
          const asked = { lat, lng };
          const cell = nearCell(asked, radiusKm);
          // The hardest deal: at the circle's edge, on the side away from the cell's centre.
          const away = initialBearing(cell.center, asked) + turn;
          const deal = destinationPoint(asked, radiusKm * share, away);
          expect(distanceKm(cell.center, deal)).toBeLessThanOrEqual(cell.loadRadiusKm);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("any radius at any point near a place costs one of a few entries, and finds exactly the deals in the circle", async () => {
    // Mid-Atlantic, so no other test's deals are near.
    const origin = { lat: 45, lng: -30 };
    const placed = await Promise.all(
      [0.3, 0.9, 1.9, 2.9, 4.9, 7.4, 9.9, 14.9, 19.9, 29.9, 39.9, 49.9].map(async (km, i) => {
        const at = destinationPoint(origin, km, i);
        return { title: `${km} km`, ...at, id: await dealAt(at.lat, at.lng, `${km} km`) };
      }),
    );
    const { cache, discovery } = instance();
    const asked = Array.from({ length: 2_000 }, (_, i) => ({
      // Distinct positions within ~10 m of the origin, distinct radii over the whole range.
      ...destinationPoint(origin, (i % 10) / 1_000, i),
      radiusKm: 50 * ((i + 1) / 2_000) - 0.0001 * (i % 7),
    }));
    const { result, queries } = await countQueries(() =>
      Promise.all(asked.map((input) => discovery.near(input))),
    );
    result.forEach((found, i) => {
      const input = asked[i] as (typeof asked)[number];
      const inCircle = placed
        .map((deal) => ({ deal, km: distanceKm(input, deal) }))
        .filter(({ km }) => km <= input.radiusKm)
        .sort((a, b) => a.km - b.km)
        .map(({ deal }) => deal.title);
      expect(found.map((deal) => deal.title)).toEqual(inCircle);
    });
    // One entry per radius step and cell touched: a handful of cells within 10 m of a point.
    expect(queries).toBeLessThanOrEqual(RADIUS_STEPS_KM.length * 4);
    expect(cache.localSize().entries).toBe(queries);
  });
});

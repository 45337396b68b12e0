import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { DEMO_ACCOUNTS, DEMO_CITY } from "@/db/seed";
import { newId } from "@/lib/ids";
import { clockStart } from "@/testing/test-clock";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, TEST_REDIS_URL } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";

const HOUR = 3_600_000;
const FIRST_START = new Date("2026-03-02T09:00:00Z");
let database: TestDatabase;
const started: Services[] = [];

/** One start of the demo on the same database, its clock at `now`. */
async function startDemo(now: Date) {
  const services = await createServices(
    parseEnv({ DATABASE_URL: database.url, DEMO_SEED: "on", PAYMENT_TIMEOUT_MS: "5000" }),
    { clock: () => now },
  );
  started.push(services);
  return services;
}

const liveTitles = async (services: Services, now: Date) =>
  (await services.discovery.near({ ...DEMO_CITY, radiusKm: 25 }))
    .filter((deal) => deal.startsAt <= now)
    .map((deal) => deal.title)
    .sort();

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(started.map((services) => services.stop()));
  await database?.drop();
});

describe("issue 21 item 5: the demo's sales are placed relative to now at each start", () => {
  it("a demo started again a day later shows live sales, not ended ones", async () => {
    const first = await startDemo(FIRST_START);
    expect(first.demoSeeded).toBe(true);
    const liveAtFirst = await liveTitles(first, FIRST_START);
    expect(liveAtFirst).toContain("Free croissant, fresh from the oven");
    await first.stop();

    const nextDay = new Date(FIRST_START.getTime() + 26 * HOUR);
    const second = await startDemo(nextDay);
    expect(second.demoSeeded).toBe(false);
    expect(await liveTitles(second, nextDay)).toEqual(liveAtFirst);
    const croissant = (await second.discovery.near({ ...DEMO_CITY, radiusKm: 25 })).find(
      (deal) => deal.title === "Free croissant, fresh from the oven",
    );
    expect(croissant?.startsAt).toEqual(new Date(nextDay.getTime() - 5 * 60_000));
    // The seeded sold-out sale is sold out again, its claims kept.
    const all = await second.deals.listOpen();
    expect(all.find((deal) => deal.title === "Latte art masterclass seat")?.remaining).toBe(0);
  });

  it("leaves a sale that is still on where it is", async () => {
    const later = new Date(FIRST_START.getTime() + 26 * HOUR + 30 * 60_000);
    const third = await startDemo(later);
    const croissant = (await third.deals.listOpen()).find(
      (deal) => deal.title === "Free croissant, fresh from the oven",
    );
    // Placed at the second start (26 h in), not moved again half an hour later.
    expect(croissant?.startsAt).toEqual(new Date(FIRST_START.getTime() + 26 * HOUR - 5 * 60_000));
  });

  it("with the Redis gate, a sale placed again is open at the gate too", async () => {
    const own = await createTestDatabase();
    const redis = createTestRedis();
    const env = parseEnv({
      DATABASE_URL: own.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      DEMO_SEED: "on",
    });
    const mine: Services[] = [];
    try {
      const firstStart = clockStart();
      const first = await createServices(env, { clock: () => firstStart });
      mine.push(first);
      const croissant = (await first.deals.listOpen()).find(
        (deal) => deal.title === "Free croissant, fresh from the oven",
      );
      const shopper = async (email: string) =>
        (await own.db.select({ id: users.id }).from(users).where(eq(users.email, email)))[0]?.id ??
        "";
      const claim = (services: Services, userId: string) =>
        services.claims.claim(userId, { dealId: croissant?.id ?? "", idempotencyKey: newId() });
      // The gate is loaded with the first window.
      expect((await claim(first, await shopper(DEMO_ACCOUNTS.shoppers[0] ?? ""))).outcome).toBe(
        "WON",
      );
      await mine.pop()?.stop();

      const nextDay = new Date(firstStart.getTime() + 26 * HOUR);
      const second = await createServices(env, { clock: () => nextDay });
      mine.push(second);
      expect((await claim(second, await shopper(DEMO_ACCOUNTS.shoppers[1] ?? ""))).outcome).toBe(
        "WON",
      );
    } finally {
      await Promise.all(mine.map((services) => services.stop()));
      await redis.cleanUp();
      await own.drop();
    }
  });
});

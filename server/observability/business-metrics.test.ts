import { describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { clockStart } from "@/testing/test-clock";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { withTestServices } from "@/testing/test-services";
import { createServices } from "@/testing/wired-services";
import { gateKeys } from "../claims/gate-keys";
import { parseEnv } from "../env";

let now = clockStart();
const world = withTestServices({
  redis: true,
  env: { PRICED_RESERVATION_MS: "60000" },
  clock: () => now,
});

/** One scrape: each sample by its name and labels as written, `name{a="1"}`. */
async function scrape(): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const line of (await world.services.metrics.render()).body.split("\n")) {
    const match = /^(dealdrop_[^\s]+) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

describe("issue 21 item 4: the business metrics the alerts read move with a sale", () => {
  it("counts revenue, charges by outcome and reservations ended by reason", async () => {
    const { services, redis } = world;
    if (!redis) throw new Error("these tests need Redis");
    const merchant = await createMerchant(services.database.db);
    const deal = await createDeal(services.database.db, merchant.id, {
      quantity: 5,
      now,
      priceCents: 450,
    });
    const [paying = "", declined = "", gone = ""] = await createShoppers(services.database.db, 3);
    const reserve = async (userId: string) => {
      const result = await services.claims.claim(userId, {
        dealId: deal.id,
        idempotencyKey: newId(),
      });
      if (result.outcome !== "WON") throw new Error(`no reservation: ${result.outcome}`);
      return result.claimId;
    };
    const before = await scrape();

    expect(await services.checkout.pay(paying, await reserve(paying), "approve")).toMatchObject({
      outcome: "PAID",
    });
    expect(await services.checkout.pay(declined, await reserve(declined), "decline")).toMatchObject(
      { outcome: "DECLINED" },
    );
    await reserve(gone);
    now = new Date(now.getTime() + 2 * 60_000);
    expect((await services.sweep()).expired).toBe(1);

    const after = await scrape();
    const moved = (sample: string) => (after.get(sample) ?? Number.NaN) - (before.get(sample) ?? 0);
    expect(moved('dealdrop_revenue_cents_total{currency="EUR"}')).toBe(450);
    expect(moved('dealdrop_payment_charges_total{outcome="approved"}')).toBe(1);
    expect(moved('dealdrop_payment_charges_total{outcome="declined"}')).toBe(1);
    expect(moved('dealdrop_payment_charges_total{outcome="unknown"}')).toBe(0);
    expect(moved('dealdrop_reservations_ended_total{reason="paid"}')).toBe(1);
    expect(moved('dealdrop_reservations_ended_total{reason="released"}')).toBe(1);
    expect(moved('dealdrop_reservations_ended_total{reason="expired"}')).toBe(1);
    expect(after.get("dealdrop_oversold_units")).toBe(0);
    expect(after.get("dealdrop_redis_up")).toBe(1);
    expect(after.get("dealdrop_redis_ping_seconds")).toBeGreaterThan(0);
    expect(after.get("dealdrop_redis_ping_seconds")).toBeLessThan(1);

    // A gate that would grant every unit again while one is sold: the detector reads 1.
    await redis.redis.hset(gateKeys(redis.prefix, deal.id).meta, "remaining", 5);
    expect((await scrape()).get("dealdrop_oversold_units")).toBe(1);
    await services.gates.rebuild(deal.id);
    expect((await scrape()).get("dealdrop_oversold_units")).toBe(0);
  });

  it("reads Redis as down when it does not answer", async () => {
    const stopped = await createServices(
      parseEnv({
        DATABASE_URL: world.database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: world.redis?.prefix ?? "",
      }),
    );
    try {
      stopped.redis?.disconnect();
      const body = (await stopped.metrics.render()).body;
      expect(body).toMatch(/^dealdrop_redis_up 0$/m);
      // prom-client writes NaN as "Nan", which Prometheus reads as NaN.
      expect(body).toMatch(/^dealdrop_redis_ping_seconds nan$/im);
    } finally {
      await stopped.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { type FaultWorld, startFaultWorld } from "@/testing/fault-sale";
import type { PrivateRedis } from "@/testing/private-redis";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import type { TestDatabase } from "@/testing/test-database";
import type { Services } from "@/testing/wired-services";
import { DomainError } from "../errors";
import { createRedis } from "../redis/client";

/**
 * Load shedding under real overload: the gate's Redis stops answering for two seconds
 * (`CLIENT PAUSE`, as a Redis stalled by a slow command or a failover would) while shoppers
 * keep arriving. Without shedding every one of them would wait out the stall; with it,
 * once the shedder has seen a whole interval without a fast answer, new attempts are
 * refused at once with a retry delay, while Redis is still paused.
 */
describe("load shedding", () => {
  const PAUSE_MS = 2_000;
  let world: FaultWorld;
  let database: TestDatabase;
  let redis: PrivateRedis;
  let services: Services;

  beforeAll(async () => {
    world = await startFaultWorld({ keyPrefix: "shed:", redis: true });
    ({ database } = world);
    redis = world.redis as PrivateRedis;
    services = await world.startApp();
  });
  afterAll(() => world?.stop());

  it("refuses attempts at once with a retry delay while the gate is stalled, and recovers after", async () => {
    const merchant = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchant.id, { quantity: 10_000, now: new Date() });
    const shoppers = await createShoppers(database.db, 3_000);
    let nextShopper = 0;
    type Answer = { result?: ClaimResult; error?: unknown; at: number };
    const claim = (): Promise<Answer> => {
      const userId = shoppers[nextShopper++ % shoppers.length] as string;
      return services.claims
        .claim(userId, { dealId: deal.id, idempotencyKey: `shed-${nextShopper}` })
        .then(
          (result) => ({ result, at: Date.now() }),
          (error: unknown) => ({ error, at: Date.now() }),
        );
    };
    // The gate is loaded and fast before the stall.
    expect((await claim()).result?.outcome).toBe("WON");

    const admin = createRedis(redis.url);
    await admin.client("PAUSE", PAUSE_MS, "ALL");
    const pauseEnds = Date.now() + PAUSE_MS;
    admin.disconnect();
    // Shoppers keep coming during the stall: 40 every 25 ms for 1.5 s.
    const answers: Promise<Answer>[] = [];
    while (Date.now() < pauseEnds - 500) {
      for (let i = 0; i < 40; i++) answers.push(claim());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const settled = await Promise.all(answers);

    const shed = settled.filter(
      ({ error }) =>
        DomainError.is(error) && error.code === "UNAVAILABLE" && error.details.shed === true,
    );
    expect(shed.length).toBeGreaterThan(settled.length / 2);
    // Refused while Redis was still paused: they did not queue behind the stall.
    expect(shed.filter(({ at }) => at < pauseEnds).length).toBe(shed.length);
    for (const { error } of shed) {
      expect((error as DomainError).details.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    }
    // Whatever was let through was decided once Redis answered again; nothing else failed.
    const others = settled.filter((answer) => !shed.includes(answer));
    expect(others.filter(({ error }) => error !== undefined)).toEqual([]);

    // After the stall the shedder sees fast answers again and lets everyone through.
    let after: Answer = await claim();
    let shedAfter = 0;
    for (let i = 0; i < 50 && after.error; i++) {
      if (DomainError.is(after.error) && after.error.details.shed === true) shedAfter++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await claim();
    }
    expect(after.result?.outcome).toBe("WON");
    // Every refusal shows in the metrics as SHED, apart from the gate's own outcomes.
    const { body } = await services.metrics.render();
    expect(body).toContain(
      `dealdrop_claim_attempts_total{outcome="SHED"} ${shed.length + shedAfter}`,
    );

    const won = settled.filter(({ result }) => result?.outcome === "WON").length + 2;
    const truth = await claimTruth(database.db, deal.id);
    expect(truth.activeClaims).toBe(won);
    expect(truth.soldCounter).toBe(won);
  });
});

import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { deals } from "@/db/schema";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase } from "@/testing/test-database";
import { describeClaimEngineContract } from "./claim-engine-contract";
import { EmbeddedClaimEngine } from "./embedded-claim-engine";

describeClaimEngineContract("Embedded gate on Postgres", async () => {
  const database = await createTestDatabase();
  return {
    db: database.db,
    engine: new EmbeddedClaimEngine({ db: database.db, reservationMs: 10 * 60_000 }),
    async remainingAtGate(dealId) {
      const [deal] = await database.db.select().from(deals).where(eq(deals.id, dealId));
      return (deal?.quantity ?? 0) - (deal?.sold ?? 0);
    },
    rejectionsTouchPostgres: true,
    openGate: async () => {},
    reloadGate: async () => {},
    close: () => database.drop(),
  };
});

describe("Embedded gate on PGlite (the no-server default)", () => {
  it("migrates an in-memory PGlite and keeps the contract for a small sale", async () => {
    const database = await openDatabase({ dataDir: "memory://" });
    try {
      const engine = new EmbeddedClaimEngine({ db: database.db, reservationMs: 60_000 });
      const now = new Date();
      const merchant = await createMerchant(database.db);
      const [first = "", second = ""] = await createShoppers(database.db, 2);
      const deal = await createDeal(database.db, merchant.id, { quantity: 1, now });
      const attempt = (userId: string, key: string) =>
        engine.claim({ dealId: deal.id, userId, idempotencyKey: key, now });
      const results = await Promise.all([
        attempt(first, "first-key"),
        attempt(second, "second-key"),
      ]);
      expect(results.map((r) => r.outcome).sort()).toEqual(["SOLD_OUT", "WON"]);
      const winner = results[0]?.outcome === "WON" ? first : second;
      expect(await attempt(winner, winner === first ? "first-key" : "second-key")).toMatchObject({
        outcome: "WON",
        replayed: true,
      });
    } finally {
      await database.close();
    }
  });
});

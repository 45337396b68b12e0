import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { claims } from "@/db/schema";
import { newId } from "@/lib/ids";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, type TestRedis } from "@/testing/test-redis";
import type { ClaimEngine } from "./claim-engine";
import { describeClaimEngineContract, runAttempts } from "./claim-engine-contract";
import { insertWinningClaim } from "./claim-records";
import { gateKeys } from "./gate-keys";
import { reconcileGates } from "./reconciler";
import { RedisClaimEngine } from "./redis-claim-engine";
import { RedisGateLoader } from "./redis-gate-loader";

const RESERVATION_MS = 10 * 60_000;

function redisEngine(database: TestDatabase, testRedis: TestRedis) {
  const loader = new RedisGateLoader(testRedis.redis, database.db, testRedis.prefix);
  const engine = new RedisClaimEngine({
    redis: testRedis.redis,
    db: database.db,
    loader,
    keyPrefix: testRedis.prefix,
    reservationMs: RESERVATION_MS,
  });
  return { engine, loader };
}

async function remainingAtGate(testRedis: TestRedis, dealId: string) {
  const remaining = await testRedis.redis.hget(
    gateKeys(testRedis.prefix, dealId).meta,
    "remaining",
  );
  return Number(remaining);
}

describeClaimEngineContract("Redis gate", async () => {
  const database = await createTestDatabase();
  const testRedis = createTestRedis();
  const { engine, loader } = redisEngine(database, testRedis);
  return {
    db: database.db,
    engine,
    remainingAtGate: (dealId) => remainingAtGate(testRedis, dealId),
    rejectionsTouchPostgres: false,
    openGate: (dealId) => loader.ensureLoaded(dealId),
    async reloadGate(dealId) {
      await loader.unload(dealId);
      await loader.ensureLoaded(dealId);
    },
    async close() {
      await testRedis.cleanUp();
      await database.drop();
    },
  };
});

describe("Redis gate under faults", () => {
  let database: TestDatabase;
  let testRedis: TestRedis;
  let merchantId: string;
  let shoppers: string[];
  const now = new Date();

  beforeAll(async () => {
    database = await createTestDatabase();
    // A Redis database of its own, so that FLUSHDB here cannot touch other test files.
    testRedis = createTestRedis({ db: 13 });
    merchantId = (await createMerchant(database.db)).id;
    shoppers = await createShoppers(database.db, 400);
  });
  afterAll(async () => {
    await testRedis?.cleanUp();
    await database?.drop();
  });

  /** A claim written to Postgres without the gate knowing, as a gate rebuilt mid-write leaves. */
  const writeBehindTheGate = (dealId: string, userId: string) =>
    insertWinningClaim(database.db, {
      claimId: newId(),
      dealId,
      userId,
      idempotencyKey: `behind-${userId}`,
      now,
      reservationMs: RESERVATION_MS,
    });

  const attemptsBy = (users: string[], tag: string) =>
    users.map((user) => ({ user, key: `${tag}-${user}` }));
  /** Each of `users` claims once (keys tagged `tag`), at most `concurrency` at a time. */
  const claimEach = (
    engine: ClaimEngine,
    dealId: string,
    users: string[],
    tag: string,
    concurrency: number,
  ) => runAttempts(engine, dealId, attemptsBy(users, tag), concurrency, now);

  it("reloads the gate from Postgres after Redis is flushed mid-sale, with no oversell", async () => {
    const { engine } = redisEngine(database, testRedis);
    const deal = await createDeal(database.db, merchantId, { quantity: 150, now });
    const firstHalf = await claimEach(engine, deal.id, shoppers.slice(0, 100), "a", 64);
    expect(firstHalf.every((o) => o.result?.outcome === "WON")).toBe(true);

    // Flush while attempts are in flight: some gate decisions are lost with the data.
    const secondHalf = claimEach(engine, deal.id, shoppers, "b", 64);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await testRedis.redis.flushdb();
    const outcomes = await secondHalf;

    expect(outcomes.filter((o) => o.error)).toEqual([]);
    const truth = await claimTruth(database.db, deal.id);
    expect(truth.activeClaims).toBe(150);
    expect(truth.usersWithTwoClaims).toBe(0);
    expect(truth.soldCounter).toBe(150);
    const won = outcomes.filter((o) => o.result?.outcome === "WON" && !o.result.replayed).length;
    expect(won).toBe(50);

    // Wins in flight during the flush may have left the rebuilt gate counting units that
    // Postgres has since sold; the reconciler finds the drift and rebuilds the gate.
    await reconcileGates({
      redis: testRedis.redis,
      db: database.db,
      keyPrefix: testRedis.prefix,
      graceMs: 30_000,
    });
    const late = await engine
      .claim({ dealId: deal.id, userId: newId(), idempotencyKey: "late", now })
      .catch((e) => e);
    expect(late).toMatchObject({ outcome: "SOLD_OUT" });
    expect((await remainingAtGate(testRedis, deal.id)) + truth.activeClaims).toBe(150);
  });

  it("gives the unit back when the Postgres write of a winner fails", async () => {
    const { engine } = redisEngine(database, testRedis);
    const deal = await createDeal(database.db, merchantId, { quantity: 3, now });
    const victim = shoppers[0] as string;
    await database.db.execute(
      sql.raw(`
      CREATE FUNCTION fail_claim_insert() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'injected failure for %', NEW.user_id; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER fail_claim_insert BEFORE INSERT ON claims
        FOR EACH ROW WHEN (NEW.user_id = '${victim}') EXECUTE FUNCTION fail_claim_insert();`),
    );
    try {
      const request = { dealId: deal.id, userId: victim, idempotencyKey: "doomed-write", now };
      await expect(engine.claim(request)).rejects.toMatchObject({ code: "UNAVAILABLE" });

      expect(await remainingAtGate(testRedis, deal.id)).toBe(3);
      const keys = gateKeys(testRedis.prefix, deal.id);
      expect(await testRedis.redis.hget(keys.users, victim)).toBeNull();
      expect(await testRedis.redis.zcard(keys.pending)).toBe(0);
      expect((await claimTruth(database.db, deal.id)).activeClaims).toBe(0);

      await database.db.execute(sql.raw("DROP TRIGGER fail_claim_insert ON claims"));
      expect(await engine.claim(request)).toMatchObject({ outcome: "WON", replayed: false });
    } finally {
      await database.db.execute(sql.raw("DROP TRIGGER IF EXISTS fail_claim_insert ON claims"));
      await database.db.execute(sql.raw("DROP FUNCTION IF EXISTS fail_claim_insert()"));
    }
  });

  it("reconciles reservations left by a crash between the gate and Postgres", async () => {
    const { engine } = redisEngine(database, testRedis);
    const deal = await createDeal(database.db, merchantId, { quantity: 5, now });
    await engine.claim({
      dealId: deal.id,
      userId: shoppers[10] as string,
      idempotencyKey: "warm-up",
      now,
    });

    // Two processes die right after the gate said yes: one before its Postgres write,
    // one after the write but before it cleared the pending mark.
    const lost = {
      dealId: deal.id,
      userId: shoppers[11] as string,
      idempotencyKey: "lost-write",
      now,
    };
    const lostClaimId = await engine.reserveAtGate(lost);
    const written = {
      dealId: deal.id,
      userId: shoppers[12] as string,
      idempotencyKey: "kept-write",
      now,
    };
    const writtenClaimId = await engine.reserveAtGate(written);
    await insertWinningClaim(database.db, {
      ...written,
      claimId: writtenClaimId,
      reservationMs: RESERVATION_MS,
    });
    expect(await remainingAtGate(testRedis, deal.id)).toBe(2);

    const tooEarly = await reconcileGates({
      redis: testRedis.redis,
      db: database.db,
      keyPrefix: testRedis.prefix,
      graceMs: 60_000,
      now: now.getTime(),
    });
    expect(tooEarly).toMatchObject({ released: 0, confirmed: 0 });

    const report = await reconcileGates({
      redis: testRedis.redis,
      db: database.db,
      keyPrefix: testRedis.prefix,
      graceMs: 30_000,
      now: now.getTime() + 31_000,
    });
    expect(report).toMatchObject({ released: 1, confirmed: 1 });
    expect(await remainingAtGate(testRedis, deal.id)).toBe(3);
    const truth = await claimTruth(database.db, deal.id);
    expect(truth.activeClaims + 3).toBe(5);
    expect(lostClaimId).not.toBe(writtenClaimId);
    // The user whose write was lost may claim again, and wins a fresh claim.
    expect(await engine.claim({ ...lost, idempotencyKey: "second-try" })).toMatchObject({
      outcome: "WON",
    });
  });

  it("reloads its Lua scripts after Redis forgets them (NOSCRIPT)", async () => {
    const { engine } = redisEngine(database, testRedis);
    const deal = await createDeal(database.db, merchantId, { quantity: 2, now });
    await testRedis.redis.script("FLUSH");
    const result = await engine.claim({
      dealId: deal.id,
      userId: shoppers[20] as string,
      idempotencyKey: "after-flush",
      now,
    });
    expect(result.outcome).toBe("WON");
  });

  it("loads a cold gate once even when many attempts arrive together, across two app instances", async () => {
    const deal = await createDeal(database.db, merchantId, { quantity: 30, now });
    const instanceA = redisEngine(database, testRedis).engine;
    const instanceB = redisEngine(database, testRedis).engine;
    const users = shoppers.slice(100, 300);
    const [a, b] = await Promise.all([
      claimEach(instanceA, deal.id, users.slice(0, 100), "x", 100),
      claimEach(instanceB, deal.id, users.slice(100), "x", 100),
    ]);
    const won = [...a, ...b].filter((o) => o.result?.outcome === "WON");
    expect(won).toHaveLength(30);
    const truth = await claimTruth(database.db, deal.id);
    expect(truth).toMatchObject({ activeClaims: 30, soldCounter: 30, usersWithTwoClaims: 0 });
    const rows = await database.db
      .select({ id: claims.id })
      .from(claims)
      .where(sql`${claims.dealId} = ${deal.id}`);
    expect(new Set(rows.map((r) => r.id))).toEqual(
      new Set(won.map((o) => (o.result?.outcome === "WON" ? o.result.claimId : ""))),
    );
  });

  it("answers unknown deals from a cached miss after the first look-up", async () => {
    const { engine } = redisEngine(database, testRedis);
    const dealId = newId();
    const attempt = () =>
      engine.claim({ dealId, userId: shoppers[0] as string, idempotencyKey: "ghost-deal", now });
    await expect(attempt()).rejects.toMatchObject({ code: "NOT_FOUND" });
    const { countQueries } = await import("@/testing/query-count");
    const second = await countQueries(() => attempt().catch((error) => error));
    expect(second.result).toMatchObject({ code: "NOT_FOUND" });
    expect(second.queries).toBe(0);
  });

  it("writes concurrent winners to Postgres in shared statements (group commit), each before its answer", async () => {
    const { engine, loader } = redisEngine(database, testRedis);
    const deal = await createDeal(database.db, merchantId, { quantity: 100_000, now });
    const statementsBefore = engine.winnerWrites.statements;
    const zrems = vi.spyOn(testRedis.redis, "zrem");
    const outcomes = await claimEach(engine, deal.id, shoppers.slice(0, 300), "g", 300);
    expect(outcomes.every((o) => o.result?.outcome === "WON")).toBe(true);
    const truth = await claimTruth(database.db, deal.id);
    expect(truth).toMatchObject({ activeClaims: 300, soldCounter: 300, usersWithTwoClaims: 0 });
    const statements = engine.winnerWrites.statements - statementsBefore;
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(100);
    // Each batch's winners had their pending marks cleared together: one ZREM per batch at most.
    expect(zrems.mock.calls.length).toBeLessThanOrEqual(statements);
    expect(await testRedis.redis.zcard(gateKeys(testRedis.prefix, deal.id).pending)).toBe(0);
    zrems.mockRestore();

    // A batch holding a winner Postgres refuses (here: the user already holds a claim, as
    // after a gate rebuild) still records the others; the refused one gets its own answer.
    const other = await createDeal(database.db, merchantId, { quantity: 100, now });
    const [held = ""] = shoppers.slice(300, 301);
    await loader.ensureLoaded(other.id);
    await writeBehindTheGate(other.id, held);
    const mixed = await claimEach(engine, other.id, shoppers.slice(300, 340), "m", 40);
    const heldOutcome = mixed.find((o) => o.user === held)?.result;
    expect(heldOutcome).toMatchObject({ outcome: "ALREADY_CLAIMED" });
    expect(mixed.filter((o) => o.result?.outcome === "WON")).toHaveLength(39);
    expect(await claimTruth(database.db, other.id)).toMatchObject({
      activeClaims: 40,
      soldCounter: 40,
      usersWithTwoClaims: 0,
    });
  });

  it("falls back to one write per winner when a shared statement would pass the quantity (a gate ahead of Postgres): no oversell, every answer right", async () => {
    const { engine, loader } = redisEngine(database, testRedis);
    const deal = await createDeal(database.db, merchantId, { quantity: 10, now });
    await loader.ensureLoaded(deal.id);
    // Five claims written behind the gate's back: it still counts 10 units, Postgres has 5.
    for (const userId of shoppers.slice(340, 345)) {
      await writeBehindTheGate(deal.id, userId);
    }
    const outcomes = await claimEach(engine, deal.id, shoppers.slice(345, 355), "d", 10);
    const count = (outcome: string) => outcomes.filter((o) => o.result?.outcome === outcome).length;
    expect({
      won: count("WON"),
      soldOut: count("SOLD_OUT"),
      errors: outcomes.filter((o) => o.error).length,
    }).toEqual({
      won: 5,
      soldOut: 5,
      errors: 0,
    });
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 10,
      soldCounter: 10,
      usersWithTwoClaims: 0,
    });
  });
});

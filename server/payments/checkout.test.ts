import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claims, payments } from "@/db/schema";
import { newId } from "@/lib/ids";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";
import { TestPaymentProvider } from "./providers/test";

const TTL_MS = 10 * 60_000;
let database: TestDatabase;
let testRedis: TestRedis;
let services: Services;
// The real time, moved forward by the tests: the Redis gate's keys expire by the real clock
// at the deal's end, so a fixed date would have every sale ended once that date is past.
let now = new Date();

function envFor(db: TestDatabase, redis: TestRedis) {
  return parseEnv({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redis.prefix,
    DEMO_SEED: "off",
    PRICED_RESERVATION_MS: String(TTL_MS),
    PAYMENT_TIMEOUT_MS: "100",
    // Longer than any test: a slow charge lands when a test says so (landSlowCharges).
    TEST_PAYMENT_SLOW_MS: String(60 * 60_000),
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  testRedis = createTestRedis();
  services = await createServices(envFor(database, testRedis), { clock: () => now });
});
afterAll(async () => {
  await services?.stop();
  await testRedis?.cleanUp();
  await database?.drop();
});

/** A priced sale of `quantity` units and a shopper holding a fresh reservation on it. */
async function reserved(quantity = 1) {
  const merchant = await createMerchant(database.db);
  const deal = await createDeal(database.db, merchant.id, { quantity, now, priceCents: 450 });
  const [shopper = "", other = ""] = await createShoppers(database.db, 2);
  const claim = await services.claims.claim(shopper, { dealId: deal.id, idempotencyKey: newId() });
  if (claim.outcome !== "WON") throw new Error(claim.outcome);
  expect(claim).toMatchObject({
    status: "reserved",
    reservedUntil: new Date(now.getTime() + TTL_MS),
  });
  const remaining = async () => (await services.gates.status(deal.id)).remainingAtGate;
  return { deal, shopper, other, claimId: claim.claimId, remaining };
}

/** The provider these tests run on (PAYMENT_PROVIDER's default), with its handles for tests. */
function testProvider(): TestPaymentProvider {
  const provider = services.paymentProvider;
  if (!(provider instanceof TestPaymentProvider))
    throw new Error(`not the test provider: ${provider.name}`);
  return provider;
}

const paymentOf = async (claimId: string) =>
  (await database.db.select().from(payments).where(eq(payments.claimId, claimId)))[0];
const claimOf = async (claimId: string) =>
  (await database.db.select().from(claims).where(eq(claims.id, claimId)))[0];

describe("a shopper cancels a paid claim", () => {
  /** A paid claim: reserved, then approved, with its voucher. */
  async function paid() {
    const r = await reserved();
    expect(await services.checkout.pay(r.shopper, r.claimId, "approve")).toMatchObject({
      outcome: "PAID",
    });
    return r;
  }
  const mineOf = async (shopper: string, claimId: string) =>
    (await services.claims.mine(shopper)).find((claim) => claim.claimId === claimId);

  it("refunds the amount through the provider once, and a retried cancel refunds nothing more", async () => {
    const r = await paid();
    await services.claims.cancel(r.shopper, r.claimId);
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded", amountCents: 450 });
    expect(testProvider().refundsOf(`claim:${r.claimId}`)).toBe(1);
    expect(await mineOf(r.shopper, r.claimId)).toMatchObject({
      status: "cancelled",
      payment: { status: "refunded", amountCents: 450, currency: "EUR" },
    });

    await services.claims.cancel(r.shopper, r.claimId);
    await services.sweep();
    expect(testProvider().refundsOf(`claim:${r.claimId}`)).toBe(1);
  });

  it("a refund the provider fails stays owed, shows as pending, and the background step pays it once", async () => {
    const r = await paid();
    testProvider().refundOutage = true;
    try {
      await services.claims.cancel(r.shopper, r.claimId);
      expect(await claimOf(r.claimId)).toMatchObject({ status: "cancelled" });
      expect(await mineOf(r.shopper, r.claimId)).toMatchObject({
        payment: { status: "refund_pending" },
      });
      await services.sweep();
      expect(await paymentOf(r.claimId)).toMatchObject({ status: "approved" });
    } finally {
      testProvider().refundOutage = false;
    }
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    expect(testProvider().refundsOf(`claim:${r.claimId}`)).toBe(1);
    await services.sweep();
    expect(testProvider().refundsOf(`claim:${r.claimId}`)).toBe(1);
  });

  it("a crash between the cancellation and the refund: the next instance's sweep refunds it", async () => {
    const r = await paid();
    // The cancellation committed, then the process died before it called the provider.
    await database.db.update(claims).set({ status: "cancelled" }).where(eq(claims.id, r.claimId));
    await services.stop();
    services = await createServices(envFor(database, testRedis), { clock: () => now });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "approved" });
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    expect(testProvider().refundsOf(`claim:${r.claimId}`)).toBe(1);
  });
});

describe("paying for a reservation", () => {
  it("approved: the claim is confirmed and a voucher issued; paying again charges nothing more", async () => {
    const r = await reserved();
    const paid = await services.checkout.pay(r.shopper, r.claimId, "approve");
    expect(paid).toMatchObject({ outcome: "PAID", voucherId: expect.any(String) });
    expect(await claimOf(r.claimId)).toMatchObject({ status: "confirmed" });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "approved", amountCents: 450 });
    expect(await services.checkout.pay(r.shopper, r.claimId, "approve")).toEqual(paid);
    expect(await services.vouchers.mine(r.shopper)).toHaveLength(1);
  });

  it("declined: the unit goes back to the gate at once and the shopper may try again", async () => {
    const r = await reserved();
    expect(await r.remaining()).toBe(0);
    expect(await services.checkout.pay(r.shopper, r.claimId, "decline")).toMatchObject({
      outcome: "DECLINED",
    });
    expect(await r.remaining()).toBe(1);
    expect(await claimOf(r.claimId)).toMatchObject({ status: "cancelled" });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "declined" });
    expect(await claimTruth(database.db, r.deal.id)).toMatchObject({
      activeClaims: 0,
      soldCounter: 0,
    });
    const again = await services.claims.claim(r.shopper, {
      dealId: r.deal.id,
      idempotencyKey: newId(),
    });
    expect(again).toMatchObject({ outcome: "WON", status: "reserved" });
  });

  it("a lost answer releases the unit; the background step finds the charge and refunds it", async () => {
    const r = await reserved();
    expect(await services.checkout.pay(r.shopper, r.claimId, "lost")).toMatchObject({
      outcome: "PAYMENT_UNKNOWN",
    });
    expect(await r.remaining()).toBe(1);
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "pending" });
    now = new Date(now.getTime() + 1_000);
    expect((await services.sweep()).paymentsSettled).toBeGreaterThanOrEqual(1);
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    expect(testProvider().wasRefunded(`claim:${r.claimId}`)).toBe(true);
  });

  it("a slow answer past the timeout is treated as unknown, and the charge that lands later is refunded", async () => {
    const r = await reserved();
    expect(await services.checkout.pay(r.shopper, r.claimId, "slow")).toMatchObject({
      outcome: "PAYMENT_UNKNOWN",
    });
    expect(await r.remaining()).toBe(1);
    testProvider().landSlowCharges();
    now = new Date(now.getTime() + 1_000);
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
  });
});

describe("reservation expiry", () => {
  it("expires an unpaid reservation and gives its unit back; paying afterwards is refused", async () => {
    const r = await reserved();
    now = new Date(now.getTime() + TTL_MS + 1_000);
    expect((await services.sweep()).expired).toBeGreaterThanOrEqual(1);
    expect(await claimOf(r.claimId)).toMatchObject({ status: "expired" });
    expect(await r.remaining()).toBe(1);
    expect(await claimTruth(database.db, r.deal.id)).toMatchObject({
      activeClaims: 0,
      soldCounter: 0,
    });
    await expect(services.checkout.pay(r.shopper, r.claimId, "approve")).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    expect(
      await services.claims.claim(r.other, { dealId: r.deal.id, idempotencyKey: newId() }),
    ).toMatchObject({
      outcome: "WON",
    });
  });

  it("a payment approved after the reservation ran out is refunded, never an oversell", async () => {
    const r = await reserved(1);
    now = new Date(now.getTime() + TTL_MS + 1_000);
    // Not swept yet: the claim still says reserved, but its time is over.
    expect(await services.checkout.pay(r.shopper, r.claimId, "approve")).toMatchObject({
      outcome: "EXPIRED_REFUNDED",
    });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    await services.sweep();
    expect(await claimOf(r.claimId)).toMatchObject({ status: "expired" });
    expect(
      await services.claims.claim(r.other, { dealId: r.deal.id, idempotencyKey: newId() }),
    ).toMatchObject({
      outcome: "WON",
    });
    const truth = await claimTruth(database.db, r.deal.id);
    expect(truth.activeClaims).toBeLessThanOrEqual(truth.quantity);
    expect(truth).toMatchObject({ activeClaims: 1, soldCounter: 1 });
  });

  it("survives a restart: a reservation made before it is expired by the next instance's sweep", async () => {
    const r = await reserved();
    await services.stop();
    services = await createServices(envFor(database, testRedis), { clock: () => now });
    now = new Date(now.getTime() + TTL_MS + 1_000);
    expect((await services.sweep()).expired).toBeGreaterThanOrEqual(1);
    expect(await claimOf(r.claimId)).toMatchObject({ status: "expired" });
    expect(await r.remaining()).toBe(1);
  });
});

describe("a charge the provider has no record of yet", () => {
  /** A reservation paid with the slow card: the answer is lost and the unit released. */
  async function unknown() {
    const r = await reserved();
    expect(await services.checkout.pay(r.shopper, r.claimId, "slow")).toMatchObject({
      outcome: "PAYMENT_UNKNOWN",
    });
    expect(await r.remaining()).toBe(1);
    const created = (await paymentOf(r.claimId))?.createdAt as Date;
    return { ...r, key: `claim:${r.claimId}`, created };
  }

  it("stays pending while the provider has no record; the charge that lands later is refunded, once", async () => {
    const r = await unknown();
    now = new Date(now.getTime() + 1_000);
    await services.sweep();
    expect(testProvider().lookupsOf(r.key)).toBe(1);
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "pending" });

    testProvider().landSlowCharges();
    now = new Date(now.getTime() + 60 * 60_000);
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    expect(testProvider().wasRefunded(r.key)).toBe(true);
    now = new Date(now.getTime() + 60 * 60_000);
    await services.sweep();
    expect(testProvider().refundsOf(r.key)).toBe(1);
  });

  it("a late charge whose refund fails is owed: the refund sweep pays it when the provider is back", async () => {
    const r = await unknown();
    now = new Date(now.getTime() + 1_000);
    await services.sweep();
    testProvider().landSlowCharges();
    testProvider().refundOutage = true;
    try {
      now = new Date(now.getTime() + 60 * 60_000);
      await services.sweep();
      expect(await paymentOf(r.claimId)).toMatchObject({
        status: "approved",
        providerRef: expect.stringMatching(/^test_/),
      });
      expect(await claimOf(r.claimId)).toMatchObject({ status: "cancelled" });
    } finally {
      testProvider().refundOutage = false;
    }
    const lookups = testProvider().lookupsOf(r.key);
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    expect(testProvider().refundsOf(r.key)).toBe(1);
    // Owed and then paid by the refund sweep, which needs no lookup.
    expect(testProvider().lookupsOf(r.key)).toBe(lookups);
  });

  it("is asked again less and less often, and failed only after the provider's idempotency window", async () => {
    const r = await unknown();
    // A sweep every 5 s for 10 minutes: the provider is not asked 120 times.
    for (let i = 0; i < 120; i++) {
      now = new Date(now.getTime() + 5_000);
      await services.sweep();
    }
    const asked = testProvider().lookupsOf(r.key);
    expect(asked).toBeGreaterThanOrEqual(2);
    expect(asked).toBeLessThanOrEqual(12);
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "pending" });

    const window = testProvider().idempotencyWindowMs;
    now = new Date(r.created.getTime() + window - 60_000);
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "pending" });
    now = new Date(r.created.getTime() + window + 60_000);
    await services.sweep();
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "failed" });
    const final = testProvider().lookupsOf(r.key);
    await services.sweep();
    expect(testProvider().lookupsOf(r.key)).toBe(final);
    expect(testProvider().refundsOf(r.key)).toBe(0);
  });
});

describe("a reservation whose time ran out", () => {
  it("reads as expired in My claims by the database's clock, before any sweep has ended it", async () => {
    const r = await reserved();
    const mine = async () =>
      (await services.claims.mine(r.shopper)).find((claim) => claim.claimId === r.claimId);
    expect(await mine()).toMatchObject({ status: "reserved" });
    // The time runs out by the database's clock (the one payment and the sweep read); no sweep.
    await database.db.execute(
      sql`UPDATE claims SET reserved_until = now() - interval '1 second' WHERE id = ${r.claimId}`,
    );
    expect(await claimOf(r.claimId)).toMatchObject({ status: "reserved" });
    expect(await mine()).toMatchObject({ status: "expired" });
  });
});

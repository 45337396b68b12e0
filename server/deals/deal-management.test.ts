import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, deals, redemptions, vouchers } from "@/db/schema";
import type { CreateDealInput } from "@/lib/deals/deal-rules";
import { newId } from "@/lib/ids";
import { claimTruth, createShoppers, createShopWithStaff } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import type { Actor } from "../auth/actor";
import { parseEnv } from "../env";

const MINUTE = 60_000;
let database: TestDatabase;
const prefix = `test:${newId()}:`;
const now = new Date();
const engines: Record<string, Services> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, DEMO_SEED: "off" as const };
  engines.redis = await createServices(
    parseEnv({ ...env, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix }),
  );
  engines.embedded = await createServices(parseEnv(env));
});
afterAll(async () => {
  const keys = await engines.redis?.redis?.keys(`${prefix}*`);
  if (keys?.length) await engines.redis?.redis?.del(...keys);
  for (const services of Object.values(engines)) await services.stop();
  await database?.drop();
});

const shop = () => createShopWithStaff(database.db);

const fields = (overrides: Partial<CreateDealInput> = {}): CreateDealInput => ({
  title: "Two-for-one cinnamon buns",
  description: "",
  priceCents: 0,
  originalPriceCents: null,
  quantity: 3,
  startsAt: new Date(now.getTime() - MINUTE),
  endsAt: new Date(now.getTime() + 60 * MINUTE),
  voucherValidUntil: new Date(now.getTime() + 24 * 60 * MINUTE),
  location: { lat: 52.37, lng: 4.89 },
  geofenceRadiusM: null,
  ...overrides,
});

const claimAs = (services: Services, userId: string, dealId: string) =>
  services.claims.claim(userId, { dealId, idempotencyKey: newId() });

describe.each(["redis", "embedded"])("a live sale, %s gate", (engine) => {
  it("grows its quantity and the gate sells the new units at once; it never shrinks", async () => {
    const services = engines[engine] as Services;
    const { staff } = await shop();
    const deal = await services.dealManagement.create(staff, fields({ quantity: 2 }));
    const shoppers = await createShoppers(database.db, 5);
    const outcomes = [];
    for (const shopper of shoppers.slice(0, 3)) {
      outcomes.push((await claimAs(services, shopper, deal.id)).outcome);
    }
    expect(outcomes).toEqual(["WON", "WON", "SOLD_OUT"]);

    await services.dealManagement.update(staff, { dealId: deal.id, changes: { quantity: 4 } });
    const after = [];
    for (const shopper of shoppers.slice(2)) {
      after.push((await claimAs(services, shopper, deal.id)).outcome);
    }
    expect(after).toEqual(["WON", "WON", "SOLD_OUT"]);
    expect(await claimTruth(database.db, deal.id)).toMatchObject({
      activeClaims: 4,
      soldCounter: 4,
      quantity: 4,
    });
    expect(await services.gates.status(deal.id)).toMatchObject({ consistent: true });

    const shrink = services.dealManagement.update(staff, {
      dealId: deal.id,
      changes: { quantity: 10, startsAt: new Date(now.getTime() - 2 * MINUTE), priceCents: 100 },
    });
    await expect(shrink).rejects.toMatchObject({
      code: "INVALID_INPUT",
      details: {
        fieldErrors: {
          startsAt: ["the sale has started; its start cannot move"],
          priceCents: ["the sale is live; shoppers have claimed at this price"],
        },
      },
    });
    await expect(
      services.dealManagement.update(staff, { dealId: deal.id, changes: { quantity: 3 } }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: "quantity: the sale is live, so its quantity can only grow (it is 4)",
    });
    expect((await claimTruth(database.db, deal.id)).quantity).toBe(4);
  });

  it("cancels: claims stop, unredeemed vouchers are revoked, a redeemed one stays", async () => {
    const services = engines[engine] as Services;
    const { staff, merchant } = await shop();
    const deal = await services.dealManagement.create(staff, fields({ quantity: 5 }));
    const [redeemer = "", holder = "", late = ""] = await createShoppers(database.db, 3);
    const redeemed = await claimAs(services, redeemer, deal.id);
    const held = await claimAs(services, holder, deal.id);
    const redeemedVoucher = redeemed.outcome === "WON" ? (redeemed.voucherId ?? "") : "";
    await database.db.insert(redemptions).values({
      id: newId(),
      voucherId: redeemedVoucher,
      merchantId: merchant.id,
      redeemedAt: now,
    });

    const cancelled = await services.dealManagement.cancel(staff, deal.id, "oven broke down");
    expect(cancelled).toMatchObject({ status: "cancelled", claimsCancelled: 1, sold: 1 });
    expect((await claimAs(services, late, deal.id)).outcome).toBe("CANCELLED");
    const voucherRows = await database.db
      .select({ id: vouchers.id, revokeReason: vouchers.revokeReason })
      .from(vouchers)
      .where(eq(vouchers.dealId, deal.id));
    const heldVoucher = held.outcome === "WON" ? held.voucherId : undefined;
    expect(voucherRows.find((v) => v.id === heldVoucher)?.revokeReason).toBe(
      "deal cancelled: oven broke down",
    );
    expect(voucherRows.find((v) => v.id === redeemedVoucher)?.revokeReason).toBeNull();
    expect(await services.gates.status(deal.id)).toMatchObject({ consistent: true });

    const again = await services.dealManagement.cancel(staff, deal.id, "twice");
    expect(again.claimsCancelled).toBe(0);
    await expect(
      services.dealManagement.update(staff, { dealId: deal.id, changes: { quantity: 9 } }),
    ).rejects.toMatchObject({ code: "INVALID_STATE" });
  });
});

describe("deal management", () => {
  const services = () => engines.redis as Services;

  it("refuses a deal that breaks a rule, with a message per field, and stores nothing", async () => {
    const { staff } = await shop();
    const attempt = services().dealManagement.create(
      staff,
      fields({
        endsAt: new Date(now.getTime() - 2 * MINUTE),
        voucherValidUntil: new Date(now.getTime() - 3 * MINUTE),
        priceCents: 500,
        originalPriceCents: 400,
      }),
    );
    await expect(attempt).rejects.toMatchObject({
      code: "INVALID_INPUT",
      details: {
        fieldErrors: {
          endsAt: ["the sale must end after it starts", "the sale must end in the future"],
          voucherValidUntil: ["vouchers must stay valid until after the sale ends"],
          originalPriceCents: ["the original price must be above the deal price"],
        },
      },
    });
    const rows = await database.db
      .select()
      .from(deals)
      .where(eq(deals.merchantId, staff.merchantId ?? ""));
    expect(rows).toHaveLength(0);
  });

  it("keeps staff to their own merchant's deals, and audits every change", async () => {
    const a = await shop();
    const b = await shop();
    const admin: Actor = { userId: a.staff.userId, role: "admin", displayName: "Ada Admin" };
    const deal = await services().dealManagement.create(
      a.staff,
      fields({ startsAt: new Date(now.getTime() + 10 * MINUTE) }),
    );
    const refusals = [
      () => services().dealManagement.get(b.staff, deal.id),
      () =>
        services().dealManagement.update(b.staff, { dealId: deal.id, changes: { quantity: 50 } }),
      () => services().dealManagement.cancel(b.staff, deal.id, "not mine"),
      () => services().dealManagement.create(b.staff, { ...fields(), merchantId: a.merchant.id }),
      () => services().monitor.snapshot(b.staff, deal.id),
    ];
    for (const refused of refusals) {
      await expect(refused()).rejects.toMatchObject({ code: "NOT_YOURS" });
    }
    expect((await services().dealManagement.list(b.staff)).map((d) => d.id)).not.toContain(deal.id);

    // Before the sale starts, anything may change, quantity down too.
    await services().dealManagement.update(a.staff, {
      dealId: deal.id,
      changes: { quantity: 2, title: "Buns, two for one" },
    });
    await services().dealManagement.update(admin, { dealId: deal.id, changes: { quantity: 7 } });
    const history = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, deal.id))
      .orderBy(auditLog.at);
    expect(history.map((entry) => [entry.action, entry.actorName, entry.details])).toEqual([
      ["deal.create", "Sam at the till", { title: "Two-for-one cinnamon buns", quantity: 3 }],
      [
        "deal.update",
        "Sam at the till",
        {
          title: { from: "Two-for-one cinnamon buns", to: "Buns, two for one" },
          quantity: { from: 3, to: 2 },
        },
      ],
      ["deal.update", "Ada Admin", { quantity: { from: 2, to: 7 } }],
    ]);
    expect(history.every((entry) => entry.merchantId === a.merchant.id)).toBe(true);
  });

  it("brings an open gate up to date idempotently, and a cold gate loads the edited deal", async () => {
    const { staff } = await shop();
    const deal = await services().dealManagement.create(staff, fields({ quantity: 5 }));
    const [first = ""] = await createShoppers(database.db, 1);
    await claimAs(services(), first, deal.id);
    await services().dealManagement.update(staff, { dealId: deal.id, changes: { quantity: 8 } });
    await services().engine.dealChanged(deal.id);
    await services().engine.dealChanged(deal.id);
    expect(await services().gates.status(deal.id)).toMatchObject({
      remainingAtGate: 7,
      consistent: true,
    });
    await services().gateLoader?.unload(deal.id);
    await services().dealManagement.update(staff, { dealId: deal.id, changes: { quantity: 9 } });
    const [second = ""] = await createShoppers(database.db, 1);
    await claimAs(services(), second, deal.id);
    expect(await services().gates.status(deal.id)).toMatchObject({
      remainingAtGate: 7,
      activeClaims: 2,
      consistent: true,
    });
  });
});

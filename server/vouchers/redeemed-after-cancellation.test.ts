import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redemptionConflicts, redemptions, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { createDeal, createShoppers, createShopWithStaff } from "@/testing/sale-fixtures";
import { clockStart } from "@/testing/test-clock";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";

/**
 * Issue 15, item 3b: a shopper shows a voucher at an offline counter, cancels it online (the
 * unit goes back, a paid one is refunded), and the counter syncs later. That redemption is a
 * conflict of its own kind, shown with both times and counted in the sale's figures. One
 * clock throughout: the services' (revocations, receipts and vouchers all read it).
 */
let database: TestDatabase;
let services: Services;
let now = clockStart();
const MINUTE = 60_000;
const tick = (ms: number) => {
  now = new Date(now.getTime() + ms);
  return now;
};

beforeAll(async () => {
  database = await createTestDatabase();
  services = await createServices(
    parseEnv({ DATABASE_URL: database.url, DEMO_SEED: "off", LOG_LEVEL: "silent" }),
    { clock: () => now },
  );
});
afterAll(async () => {
  await services?.stop();
  await database?.drop();
});

async function shop(quantity = 3) {
  const { merchant, staff } = await createShopWithStaff(database.db);
  const deal = await createDeal(database.db, merchant.id, { quantity, now });
  const till = async (name: string) =>
    services.devices.authenticate((await services.devices.enroll(staff, name)).credential);
  const claimVoucher = async (shopper: string) => {
    const won = await services.claims.claim(shopper, { dealId: deal.id, idempotencyKey: newId() });
    if (won.outcome !== "WON") throw new Error(won.outcome);
    const voucher = await services.vouchers.forShopper(shopper, won.voucherId ?? "");
    return { claimId: won.claimId, voucherId: voucher.id, token: voucher.token };
  };
  const figures = async () => (await services.monitor.snapshot(staff, deal.id)).redemptions;
  return { merchant, staff, deal, till, claimVoucher, figures };
}

const batch = (localId: string, token: string, redeemedAt: Date) => ({
  redemptions: [{ localId, token, redeemedAt }],
});

describe("a redemption synced after its voucher was cancelled", () => {
  it("redeem offline, cancel online, sync: a conflict of its own kind with both times, for the merchant, the admin and the sale's figures", async () => {
    const { merchant, till, claimVoucher, figures } = await shop();
    const counter = await till("Till Offline");
    const [shopper = ""] = await createShoppers(database.db, 1);
    const voucher = await claimVoucher(shopper);

    const redeemedAt = tick(MINUTE); // at the offline counter
    const cancelledAt = tick(MINUTE);
    await services.claims.cancel(shopper, voucher.claimId);
    const syncedAt = tick(MINUTE);
    const sent = batch("off-1", voucher.token, redeemedAt);
    const answer = await services.redemptionSync.sync(counter, sent);
    expect(answer).toEqual([
      {
        localId: "off-1",
        status: "conflict",
        kind: "redeemed_after_cancellation",
        voucherId: voucher.voucherId,
        cancelledAt,
      },
    ]);
    // Sent again after a lost answer: the same answer, nothing recorded twice.
    tick(MINUTE);
    expect(await services.redemptionSync.sync(counter, sent)).toEqual(answer);
    const kept = await database.db
      .select({ kind: redemptionConflicts.kind })
      .from(redemptionConflicts)
      .where(eq(redemptionConflicts.voucherId, voucher.voucherId));
    expect(kept).toEqual([{ kind: "redeemed_after_cancellation" }]);
    // Not a redemption that counts: the voucher stays cancelled, its unit stays on sale.
    expect(
      await database.db
        .select()
        .from(redemptions)
        .where(eq(redemptions.voucherId, voucher.voucherId)),
    ).toEqual([]);

    const shown = {
      kind: "redeemed_after_cancellation",
      voucherId: voucher.voucherId,
      deviceName: "Till Offline",
      redeemedAt,
      revokedAt: cancelledAt,
      receivedAt: syncedAt,
      firstRedeemedAt: null,
    };
    const forMerchant = await services.redemptionSync.history(merchant.id);
    expect(forMerchant.conflicts).toEqual([expect.objectContaining(shown)]);
    const forAdmin = await services.redemptionSync.history(null);
    expect(forAdmin.conflicts).toContainEqual(expect.objectContaining(shown));
    expect(await figures()).toEqual({
      redeemed: 0,
      redeemedTwice: 0,
      redeemedAfterCancellation: 1,
    });
  });

  it("a backdated redeemedAt does not escape it: a time before the voucher existed, or before the cancellation, is still this conflict", async () => {
    const { till, claimVoucher, figures } = await shop();
    const counter = await till("Till Backdated");
    const [early = "", plausible = ""] = await createShoppers(database.db, 2);
    const first = await claimVoucher(early);
    const second = await claimVoucher(plausible);
    const issuedAt = now;
    tick(10 * MINUTE);
    await services.claims.cancel(early, first.claimId);
    await services.claims.cancel(plausible, second.claimId);
    tick(MINUTE);

    const outcomes = await services.redemptionSync.sync(counter, {
      redemptions: [
        // Two hours before the voucher was issued: a time that cannot be true.
        {
          localId: "b-1",
          token: first.token,
          redeemedAt: new Date(issuedAt.getTime() - 120 * MINUTE),
        },
        // A minute after issue, well before the cancellation: a time the server cannot check.
        { localId: "b-2", token: second.token, redeemedAt: new Date(issuedAt.getTime() + MINUTE) },
      ],
    });
    expect(outcomes).toMatchObject([
      { status: "conflict", kind: "redeemed_after_cancellation", clockFlag: "before_issue" },
      { status: "conflict", kind: "redeemed_after_cancellation" },
    ]);
    expect(outcomes[1]).not.toHaveProperty("clockFlag");
    expect(await figures()).toMatchObject({ redeemed: 0, redeemedAfterCancellation: 2 });
  });

  it("a redemption synced before the cancellation is not this kind: the cancellation is refused and a later till's redemption is a second redemption", async () => {
    const { till, claimVoucher, figures } = await shop();
    const tillA = await till("Till A");
    const tillB = await till("Till B");
    const [shopper = ""] = await createShoppers(database.db, 1);
    const voucher = await claimVoucher(shopper);
    const redeemedAtA = tick(MINUTE);
    const redeemedAtB = tick(MINUTE);
    tick(MINUTE);

    expect(
      await services.redemptionSync.sync(tillA, batch("a-1", voucher.token, redeemedAtA)),
    ).toEqual([{ localId: "a-1", status: "recorded", voucherId: voucher.voucherId }]);
    await expect(services.claims.cancel(shopper, voucher.claimId)).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    expect(
      await services.redemptionSync.sync(tillB, batch("b-1", voucher.token, redeemedAtB)),
    ).toEqual([
      {
        localId: "b-1",
        status: "conflict",
        kind: "redeemed_twice",
        voucherId: voucher.voucherId,
        first: { redeemedAt: redeemedAtA, where: 'on device "Till A"' },
      },
    ]);
    expect(await figures()).toEqual({
      redeemed: 1,
      redeemedTwice: 1,
      redeemedAfterCancellation: 0,
    });
  });

  it("a cancellation racing a sync ends one way per voucher: redeemed and not cancelled, or cancelled with this conflict", async () => {
    const { till, claimVoucher } = await shop(20);
    const counter = await till("Till Race");
    const shoppers = await createShoppers(database.db, 20);
    const issued = await Promise.all(shoppers.map((shopper) => claimVoucher(shopper)));
    tick(MINUTE);
    const [synced] = await Promise.all([
      services.redemptionSync.sync(counter, {
        redemptions: issued.map((voucher, i) => ({
          localId: `r-${i}`,
          token: voucher.token,
          redeemedAt: now,
        })),
      }),
      ...issued.map((voucher, i) =>
        services.claims
          .cancel(shoppers[i] as string, voucher.claimId)
          .catch((error: { code?: string }) => error.code),
      ),
    ]);
    const ids = issued.map((voucher) => voucher.voucherId);
    const revoked = new Set(
      (
        await database.db
          .select({ id: vouchers.id, revokedAt: vouchers.revokedAt })
          .from(vouchers)
          .where(inArray(vouchers.id, ids))
      )
        .filter((row) => row.revokedAt !== null)
        .map((row) => row.id),
    );
    const recorded = new Set(
      (
        await database.db
          .select({ id: redemptions.voucherId })
          .from(redemptions)
          .where(inArray(redemptions.voucherId, ids))
      ).map((row) => row.id),
    );
    for (const [i, id] of ids.entries()) {
      expect(revoked.has(id) !== recorded.has(id)).toBe(true);
      expect(synced[i]).toMatchObject(
        revoked.has(id)
          ? { status: "conflict", kind: "redeemed_after_cancellation" }
          : { status: "recorded" },
      );
    }
  });
});

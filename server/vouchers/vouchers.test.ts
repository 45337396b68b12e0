import { eq } from "drizzle-orm";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { signingKeys, users, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { verifyVoucher } from "@/lib/vouchers/verify-voucher";
import {
  claimTruth,
  createDeal,
  createMerchant,
  createShoppers,
  createStaff,
} from "@/testing/sale-fixtures";
import { clockStart } from "@/testing/test-clock";
import { withTestServices } from "@/testing/test-services";
import { KeyEncryption } from "./key-encryption";

const HOUR = 3_600_000;
const SKEW_S = 120;

const START = clockStart();
let now = START;

const world = withTestServices({
  env: {
    VOUCHER_KEY_SECRET: "a-test-secret-that-is-long-enough-0123456789",
    VOUCHER_KEY_LEAD_MS: String(24 * HOUR),
    VOUCHER_CLOCK_SKEW_SECONDS: String(SKEW_S),
  },
  clock: () => now,
});

async function freeSale(quantity = 5) {
  const merchant = await createMerchant(world.database.db);
  const deal = await createDeal(world.database.db, merchant.id, { quantity, now });
  const shoppers = await createShoppers(world.database.db, quantity + 2);
  const staffId = await createStaff(world.database.db, merchant.id);
  return { merchant, deal, shoppers, staffId };
}

async function win(userId: string, dealId: string) {
  const result = await world.services.claims.claim(userId, { dealId, idempotencyKey: newId() });
  if (result.outcome !== "WON" || !result.voucherId)
    throw new Error(`no voucher: ${result.outcome}`);
  const [voucher] = await world.database.db
    .select()
    .from(vouchers)
    .where(eq(vouchers.id, result.voucherId));
  if (!voucher) throw new Error("voucher row missing");
  return { ...result, voucher };
}

const verifyNow = async (token: string, merchantId: string) =>
  verifyVoucher(token, {
    keys: await world.services.signingKeys.publishedKeys(),
    now,
    clockSkewSeconds: SKEW_S,
    merchantId,
  });

describe("signing keys", () => {
  it("generates one active key on first start, its kid the RFC 7638 thumbprint, private part sealed", async () => {
    const rows = await world.database.db.select().from(signingKeys);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row?.status).toBe("active");
    const published = await world.services.signingKeys.publishedKeys();
    expect(published).toHaveLength(1);
    expect(published[0]).not.toHaveProperty("d");
    expect(published[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", kid: row?.kid });
    const { calculateJwkThumbprint } = await import("jose");
    const { kid: _kid, alg: _alg, use: _use, ...bare } = published[0] ?? {};
    expect(await calculateJwkThumbprint(bare)).toBe(row?.kid);
    // Sealed: the stored value holds no JWK, and opens only with the right secret.
    expect(row?.privateJwkEncrypted).toMatch(/^v1\./);
    expect(row?.privateJwkEncrypted).not.toContain('"d"');
    const wrong = new KeyEncryption("another-secret-that-is-long-enough-0123456789");
    expect(() => wrong.open(row?.privateJwkEncrypted ?? "", row?.kid ?? "")).toThrow(
      /does not open with this VOUCHER_KEY_SECRET/,
    );
    const right = new KeyEncryption("a-test-secret-that-is-long-enough-0123456789");
    expect(JSON.parse(right.open(row?.privateJwkEncrypted ?? "", row?.kid ?? ""))).toHaveProperty(
      "d",
    );
    expect(() => right.open(row?.privateJwkEncrypted ?? "", "another-kid")).toThrow();
  });

  it("rotates: publishes before signing, old and new vouchers both verify, the retired key leaves after its last voucher expires", async () => {
    const sale = await freeSale();
    const before = await win(sale.shoppers[0] as string, sale.deal.id);
    const oldKid = before.voucher.kid;

    const staged = await world.services.signingKeys.stageNextKey();
    expect(staged).toMatchObject({ status: "next", published: true });
    expect((await world.services.signingKeys.publishedKeys()).map((k) => k.kid)).toEqual([
      oldKid,
      staged.kid,
    ]);
    await expect(world.services.signingKeys.activateNextKey()).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    expect(await world.services.signingKeys.advanceRotation()).toBe(false);
    // The next key does not sign during its lead time.
    const during = await win(sale.shoppers[1] as string, sale.deal.id);
    expect(during.voucher.kid).toBe(oldKid);

    now = new Date(now.getTime() + 24 * HOUR + 1_000);
    expect(await world.services.signingKeys.advanceRotation()).toBe(true);
    const [retired] = await world.database.db
      .select()
      .from(signingKeys)
      .where(eq(signingKeys.kid, oldKid));
    expect(retired).toMatchObject({ status: "retired", privateJwkEncrypted: null });

    const laterSale = await createDeal(world.database.db, sale.merchant.id, { quantity: 1, now });
    const after = await win(sale.shoppers[2] as string, laterSale.id);
    expect(after.voucher.kid).toBe(staged.kid);
    for (const v of [before, during, after]) {
      expect(await verifyNow(v.voucher.token, sale.merchant.id), v.voucher.id).toMatchObject({
        ok: true,
      });
    }

    // Every voucher the old key signed in the whole world.database must expire first.
    const { max } = await import("drizzle-orm");
    const [last] = await world.database.db
      .select({ at: max(vouchers.expiresAt) })
      .from(vouchers)
      .where(eq(vouchers.kid, oldKid));
    const lastExpiry = last?.at as Date;
    now = new Date(lastExpiry.getTime() + SKEW_S * 1_000);
    expect((await world.services.signingKeys.list()).find((k) => k.kid === oldKid)?.published).toBe(
      true,
    );
    now = new Date(lastExpiry.getTime() + SKEW_S * 1_000 + 1_000);
    const list = await world.services.signingKeys.list();
    expect(list.find((k) => k.kid === oldKid)?.published).toBe(false);
    expect((await world.services.signingKeys.publishedKeys()).map((k) => k.kid)).toEqual([
      staged.kid,
    ]);
    now = START;
  });
});

describe("issuing", () => {
  it("issues a short signed voucher when a free claim is won, with a subject that is not the shopper", async () => {
    const sale = await freeSale();
    const shopper = sale.shoppers[0] as string;
    const won = await win(shopper, sale.deal.id);
    const token = won.voucher.token;
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "ES256",
      kid: won.voucher.kid,
      typ: "dv1",
    });
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(["d", "exp", "iat", "jti", "m", "nbf", "sub"]);
    expect(claims).toMatchObject({ jti: won.voucher.id, d: sale.deal.id, m: sale.merchant.id });
    expect(claims.exp).toBe(Math.floor(sale.deal.voucherValidUntil.getTime() / 1_000));
    const [user] = await world.database.db.select().from(users).where(eq(users.id, shopper));
    expect(token).not.toContain(Buffer.from(user?.email ?? "x").toString("base64url"));
    expect(claims.sub).not.toBe(shopper);
    expect(token.length).toBeLessThan(400);
    expect(await verifyNow(token, sale.merchant.id)).toMatchObject({
      ok: true,
      voucher: { id: won.voucher.id, dealId: sale.deal.id },
    });
  });

  it("gives a shopper one voucher per claim however often it is asked for", async () => {
    const sale = await freeSale();
    const shopper = sale.shoppers[0] as string;
    const key = newId();
    const first = await world.services.claims.claim(shopper, {
      dealId: sale.deal.id,
      idempotencyKey: key,
    });
    const replay = await world.services.claims.claim(shopper, {
      dealId: sale.deal.id,
      idempotencyKey: key,
    });
    expect(first.outcome === "WON" && first.voucherId).toBeTruthy();
    expect(replay).toMatchObject({
      outcome: "WON",
      replayed: true,
      voucherId: (first as { voucherId: string }).voucherId,
    });
    const mine = await world.services.vouchers.mine(shopper);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      state: "active",
      dealTitle: "Test deal",
      merchantName: "Test Bakery",
    });
  });

  it("issues the vouchers of a burst of winners together, exactly one per claim, each verifying", async () => {
    const sale = await freeSale(120);
    const attempts = sale.shoppers.slice(0, 120).map((userId) => ({ userId, key: newId() }));
    const claimAll = () =>
      Promise.all(
        attempts.map(({ userId, key }) =>
          world.services.claims.claim(userId, { dealId: sale.deal.id, idempotencyKey: key }),
        ),
      );
    const results = await claimAll();
    // Replayed all at once: each finds its voucher, none is issued twice.
    const replays = await claimAll();
    const claimIds = results.map((result) => (result.outcome === "WON" ? result.claimId : ""));
    const rows = await world.database.db
      .select()
      .from(vouchers)
      .where(eq(vouchers.dealId, sale.deal.id));
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((row) => row.claimId))).toEqual(new Set(claimIds));
    const voucherIds = (answers: typeof results) =>
      answers.map((result) => (result.outcome === "WON" ? result.voucherId : undefined));
    expect(voucherIds(replays)).toEqual(voucherIds(results));
    expect(new Set(voucherIds(results))).toEqual(new Set(rows.map((row) => row.id)));
    for (const row of rows.slice(0, 10)) {
      expect(await verifyNow(row.token, sale.merchant.id)).toMatchObject({ ok: true });
    }
  });

  it("issues no voucher for a priced claim still waiting for payment", async () => {
    const merchant = await createMerchant(world.database.db);
    const deal = await createDeal(world.database.db, merchant.id, {
      quantity: 2,
      now,
      priceCents: 450,
    });
    const [shopper] = await createShoppers(world.database.db, 1);
    const result = await world.services.claims.claim(shopper as string, {
      dealId: deal.id,
      idempotencyKey: newId(),
    });
    expect(result).toMatchObject({ outcome: "WON", status: "reserved" });
    expect(result).not.toHaveProperty("voucherId");
    expect(await world.services.vouchers.mine(shopper as string)).toEqual([]);
  });

  it("issues a voucher owed by a confirmed claim when the shopper lists their vouchers", async () => {
    const sale = await freeSale();
    const shopper = sale.shoppers[0] as string;
    const won = await win(shopper, sale.deal.id);
    await world.database.db.delete(vouchers).where(eq(vouchers.id, won.voucher.id));
    const mine = await world.services.vouchers.mine(shopper);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.claimId).toBe(won.claimId);
  });
});

describe("cancelling and revocation", () => {
  it("cancelling a claim revokes its voucher, gives the unit back, and lists it for the merchant's devices", async () => {
    const sale = await freeSale(1);
    const shopper = sale.shoppers[0] as string;
    const since = { at: new Date(now.getTime() - 1_000), id: "" };
    const won = await win(shopper, sale.deal.id);
    expect((await claimTruth(world.database.db, sale.deal.id)).soldCounter).toBe(1);
    expect(await world.services.claims.cancel(shopper, won.claimId)).toEqual({
      claimId: won.claimId,
      status: "cancelled",
    });
    // Twice is fine, and changes nothing more.
    expect(await world.services.claims.cancel(shopper, won.claimId)).toEqual({
      claimId: won.claimId,
      status: "cancelled",
    });
    expect(await claimTruth(world.database.db, sale.deal.id)).toMatchObject({
      activeClaims: 0,
      soldCounter: 0,
    });

    const list = await world.services.trustFeeds.revocations(sale.merchant.id, since);
    expect(list.entries.map((r) => r.voucherId)).toEqual([won.voucher.id]);
    expect(list.complete).toBe(true);
    const other = await createMerchant(world.database.db);
    expect((await world.services.trustFeeds.revocations(other.id, null)).entries).toEqual([]);

    expect((await world.services.vouchers.mine(shopper))[0]?.state).toBe("cancelled");
    const redeemed = await world.services.redemptions.redeem({
      merchantId: sale.merchant.id,
      token: won.voucher.token,
      staffUserId: sale.staffId,
    });
    expect(redeemed).toMatchObject({ accepted: false, reason: "REVOKED", dealTitle: "Test deal" });
    // The unit went back on sale: another shopper can win it.
    await win(sale.shoppers[1] as string, sale.deal.id);
  });

  it("refuses to cancel another shopper's claim or a redeemed one", async () => {
    const sale = await freeSale();
    const won = await win(sale.shoppers[0] as string, sale.deal.id);
    await expect(
      world.services.claims.cancel(sale.shoppers[1] as string, won.claimId),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await world.services.redemptions.redeem({
      merchantId: sale.merchant.id,
      token: won.voucher.token,
      staffUserId: sale.staffId,
    });
    await expect(
      world.services.claims.cancel(sale.shoppers[0] as string, won.claimId),
    ).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    expect(await claimTruth(world.database.db, sale.deal.id)).toMatchObject({
      activeClaims: 1,
      soldCounter: 1,
    });
  });
});

describe("online redemption", () => {
  it("accepts the first redemption and answers every later one with when and by whom", async () => {
    const sale = await freeSale();
    const won = await win(sale.shoppers[0] as string, sale.deal.id);
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () =>
        world.services.redemptions.redeem({
          merchantId: sale.merchant.id,
          token: won.voucher.token,
          staffUserId: sale.staffId,
        }),
      ),
    );
    expect(attempts.filter((a) => a.accepted)).toHaveLength(1);
    const refused = attempts.filter((a) => !a.accepted);
    expect(refused).toHaveLength(9);
    for (const answer of refused) {
      expect(answer).toMatchObject({
        reason: "ALREADY_REDEEMED",
        dealTitle: "Test deal",
        firstRedemption: { redeemedAt: now, where: "online by Sam at the till" },
      });
    }
    expect((await world.services.vouchers.mine(sale.shoppers[0] as string))[0]?.state).toBe(
      "redeemed",
    );
  });

  it("refuses another merchant's voucher and a tampered one, and records nothing", async () => {
    const sale = await freeSale();
    const other = await freeSale();
    const won = await win(sale.shoppers[0] as string, sale.deal.id);
    const wrongShop = await world.services.redemptions.redeem({
      merchantId: other.merchant.id,
      token: won.voucher.token,
      staffUserId: other.staffId,
    });
    expect(wrongShop).toMatchObject({ accepted: false, reason: "WRONG_MERCHANT" });
    const [h, p, s] = won.voucher.token.split(".");
    const tampered = `${h}.${p?.slice(0, -2)}AA.${s}`;
    expect(
      await world.services.redemptions.redeem({
        merchantId: sale.merchant.id,
        token: tampered,
        staffUserId: sale.staffId,
      }),
    ).toMatchObject({
      accepted: false,
      reason: expect.stringMatching(/BAD_SIGNATURE|MALFORMED/),
      dealTitle: null,
    });
    expect(
      await world.services.redemptions.redeem({
        merchantId: sale.merchant.id,
        token: won.voucher.token,
        staffUserId: sale.staffId,
      }),
    ).toMatchObject({ accepted: true });
  });
});

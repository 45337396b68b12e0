import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { redemptionConflicts, redemptions } from "@/db/schema";
import { newId } from "@/lib/ids";
import { createDeal, createMerchant, createShoppers, createStaff } from "@/testing/sale-fixtures";
import { testCaller } from "@/testing/test-caller";
import { clockStart } from "@/testing/test-clock";
import { withTestServices } from "@/testing/test-services";
import { handleTrpcRequest } from "../api/http-handler";

const START = clockStart();
let now = START;

const world = withTestServices({ clock: () => now });

const staffOf = (merchantId: string, userId: string) => ({
  userId,
  merchantId,
  role: "merchant" as const,
  displayName: "Staff",
});

async function shop() {
  const merchant = await createMerchant(world.database.db);
  const staffId = await createStaff(world.database.db, merchant.id);
  const deal = await createDeal(world.database.db, merchant.id, { quantity: 10, now });
  const shoppers = await createShoppers(world.database.db, 3);
  const enroll = (name: string) =>
    world.services.devices.enroll(staffOf(merchant.id, staffId), name);
  const voucherToken = async (shopper: string) => {
    const won = await world.services.claims.claim(shopper, {
      dealId: deal.id,
      idempotencyKey: newId(),
    });
    const voucherId = won.outcome === "WON" ? won.voucherId : undefined;
    const voucher = await world.services.vouchers.forShopper(shopper, voucherId ?? "");
    return voucher.token;
  };
  return { merchant, staffId, deal, shoppers, enroll, voucherToken };
}

/** A device's tRPC call over HTTP, credential in its header. */
async function deviceCall(path: string, input: unknown, credential: string, query = false) {
  const envelope = JSON.stringify({ json: input, meta: { values: {} } });
  const url = `http://127.0.0.1/api/trpc/${path}${query ? `?input=${encodeURIComponent(envelope)}` : ""}`;
  const response = await handleTrpcRequest(
    world.services,
    new Request(url, {
      method: query ? "GET" : "POST",
      headers: { "content-type": "application/json", "x-device-credential": credential },
      body: query ? undefined : envelope,
    }),
    testCaller(),
  );
  const body = (await response.json()) as {
    result?: { data: { json: unknown } };
    error?: { json: { message: string; data: { domainCode?: string } } };
  };
  return { status: response.status, data: body.result?.data.json, error: body.error?.json };
}

describe("device enrolment", () => {
  it("gives a device a credential that authenticates it, until it is revoked", async () => {
    const { enroll, merchant, staffId } = await shop();
    const device = await enroll("Till 1");
    expect(device.credential).toMatch(/^[0-9A-Za-z]{12}\.[A-Za-z0-9_-]{43}$/);
    expect(await world.services.devices.authenticate(device.credential)).toMatchObject({
      deviceId: device.deviceId,
      deviceName: "Till 1",
      merchantId: merchant.id,
    });
    const forged = `${device.deviceId}.${"A".repeat(43)}`;
    await expect(world.services.devices.authenticate(forged)).rejects.toMatchObject({
      code: "DEVICE_UNKNOWN",
    });
    await expect(world.services.devices.authenticate(null)).rejects.toMatchObject({
      code: "DEVICE_UNKNOWN",
    });

    // Staff of another merchant cannot revoke it; its own staff can.
    const other = await createMerchant(world.database.db);
    await expect(
      world.services.devices.revoke(staffOf(other.id, staffId), device.deviceId),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await world.services.devices.revoke(staffOf(merchant.id, staffId), device.deviceId);
    await expect(world.services.devices.authenticate(device.credential)).rejects.toMatchObject({
      code: "DEVICE_REVOKED",
    });

    const refused = await deviceCall(
      "device.trustBundle",
      { revocations: null },
      device.credential,
      true,
    );
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toMatch(/This device was revoked on .*enrol it again/);
    expect(refused.error?.data.domainCode).toBe("DEVICE_REVOKED");
  });

  it("hands an enrolled device its trust bundle: keys, deal titles, revocations, limits", async () => {
    const { enroll, deal, merchant } = await shop();
    const device = await enroll("Till 2");
    const bundle = await deviceCall(
      "device.trustBundle",
      { revocations: null, redemptions: null },
      device.credential,
      true,
    );
    expect(bundle.status).toBe(200);
    expect(bundle.data).toMatchObject({
      device: { deviceName: "Till 2", merchantId: merchant.id },
      deals: [{ id: deal.id, title: "Test deal" }],
      revocations: { entries: [], complete: true },
      redemptions: { entries: [], complete: true },
      clockSkewSeconds: 120,
      maxTrustAgeMs: 24 * 3_600_000,
    });
    expect((bundle.data as { keys: object[] }).keys[0]).not.toHaveProperty("d");
  });
});

describe("syncing offline redemptions", () => {
  it("records the first, answers a re-sent batch the same, and keeps a second device's redemption as a conflict", async () => {
    const { enroll, shoppers, voucherToken } = await shop();
    const tillA = await enroll("Till A");
    const tillB = await enroll("Till B");
    const token = await voucherToken(shoppers[0] as string);
    const redeemedAtA = new Date(now.getTime() - 60_000);
    const redeemedAtB = new Date(now.getTime() - 30_000);
    const batchA = { redemptions: [{ localId: "a-1", token, redeemedAt: redeemedAtA }] };
    const batchB = { redemptions: [{ localId: "b-1", token, redeemedAt: redeemedAtB }] };
    const a = await world.services.devices.authenticate(tillA.credential);
    const b = await world.services.devices.authenticate(tillB.credential);

    const first = (await world.services.redemptionSync.sync(a, batchA)) as { voucherId: string }[];
    expect(first).toEqual([{ localId: "a-1", status: "recorded", voucherId: expect.any(String) }]);
    expect(await world.services.redemptionSync.sync(a, batchA)).toEqual(first);

    const conflict = await world.services.redemptionSync.sync(b, batchB);
    expect(conflict).toEqual([
      {
        localId: "b-1",
        status: "conflict",
        kind: "redeemed_twice",
        voucherId: first[0]?.voucherId,
        first: { redeemedAt: redeemedAtA, where: 'on device "Till A"' },
      },
    ]);
    expect(await world.services.redemptionSync.sync(b, batchB)).toEqual(conflict);

    const voucherId = first[0]?.voucherId ?? "";
    const [kept] = await world.database.db
      .select({ n: count() })
      .from(redemptions)
      .where(eq(redemptions.voucherId, voucherId));
    const [conflicts] = await world.database.db
      .select({ n: count() })
      .from(redemptionConflicts)
      .where(eq(redemptionConflicts.voucherId, voucherId));
    expect([kept?.n, conflicts?.n]).toEqual([1, 1]);

    const history = await world.services.redemptionSync.history(a.merchantId);
    expect(history.conflicts).toEqual([
      expect.objectContaining({
        voucherId,
        deviceName: "Till B",
        firstDeviceName: "Till A",
        redeemedAt: redeemedAtB,
        firstRedeemedAt: redeemedAtA,
      }),
    ]);
    expect(history.redemptions[0]).toMatchObject({
      voucherId,
      deviceName: "Till A",
      dealTitle: "Test deal",
    });
  });

  it("refuses a tampered token and another merchant's voucher, recording nothing", async () => {
    const mine = await shop();
    const theirs = await shop();
    const till = await world.services.devices.authenticate((await mine.enroll("Till")).credential);
    const token = await theirs.voucherToken(theirs.shoppers[0] as string);
    const own = await mine.voucherToken(mine.shoppers[0] as string);
    const [h, p, s] = own.split(".");
    const tampered = `${h}.${p?.slice(0, -3)}AAA.${s}`;
    const outcomes = await world.services.redemptionSync.sync(till, {
      redemptions: [
        { localId: "x-1", token, redeemedAt: now },
        { localId: "x-2", token: tampered, redeemedAt: now },
      ],
    });
    expect(outcomes).toEqual([
      { localId: "x-1", status: "rejected", reason: "WRONG_MERCHANT" },
      {
        localId: "x-2",
        status: "rejected",
        reason: expect.stringMatching(/BAD_SIGNATURE|MALFORMED/),
      },
    ]);
    const [rows] = await world.database.db
      .select({ n: count() })
      .from(redemptions)
      .where(eq(redemptions.deviceId, till.deviceId));
    expect(rows?.n).toBe(0);
  });

  it("judges a redemption at the time it happened: a voucher expired since still records", async () => {
    const { enroll, shoppers, voucherToken, deal } = await shop();
    const till = await world.services.devices.authenticate((await enroll("Till")).credential);
    const token = await voucherToken(shoppers[0] as string);
    const redeemedAt = new Date(now.getTime() + 60_000);
    const later = now;
    now = new Date(deal.voucherValidUntil.getTime() + 3_600_000);
    try {
      const outcomes = await world.services.redemptionSync.sync(till, {
        redemptions: [{ localId: "late-1", token, redeemedAt }],
      });
      expect(outcomes[0]).toMatchObject({ status: "recorded" });
    } finally {
      now = later;
    }
  });

  it("records a redemption whose time cannot be true with a visible flag: after it was received, before the voucher was issued", async () => {
    const { enroll, shoppers, voucherToken } = await shop();
    const till = await world.services.devices.authenticate((await enroll("Till Clock")).credential);
    const other = await world.services.devices.authenticate(
      (await enroll("Till Other")).credential,
    );
    const [ahead, behind, withinSkew] = await Promise.all(
      shoppers.map((shopper) => voucherToken(shopper)),
    );
    const SKEW_MS = 120_000;
    const batch = {
      redemptions: [
        // A device clock a day ahead, one two hours behind (before the voucher existed), and
        // one a little behind, inside the skew allowance.
        {
          localId: "c-1",
          token: ahead as string,
          redeemedAt: new Date(now.getTime() + 86_400_000),
        },
        {
          localId: "c-2",
          token: behind as string,
          redeemedAt: new Date(now.getTime() - 7_200_000),
        },
        {
          localId: "c-3",
          token: withinSkew as string,
          redeemedAt: new Date(now.getTime() - SKEW_MS),
        },
      ],
    };
    const outcomes = await world.services.redemptionSync.sync(till, batch);
    expect(outcomes).toEqual([
      {
        localId: "c-1",
        status: "recorded",
        voucherId: expect.any(String),
        clockFlag: "after_receipt",
      },
      {
        localId: "c-2",
        status: "recorded",
        voucherId: expect.any(String),
        clockFlag: "before_issue",
      },
      { localId: "c-3", status: "recorded", voucherId: expect.any(String) },
    ]);
    // Sent again later, when "a day ahead" is no longer in the future: answered the same.
    const later = now;
    now = new Date(now.getTime() + 3_600_000);
    try {
      expect(await world.services.redemptionSync.sync(till, batch)).toEqual(outcomes);
    } finally {
      now = later;
    }
    // The same voucher from another till with its clock ahead: a conflict, flagged too.
    const conflict = await world.services.redemptionSync.sync(other, {
      redemptions: [
        {
          localId: "o-1",
          token: ahead as string,
          redeemedAt: batch.redemptions[0]?.redeemedAt as Date,
        },
      ],
    });
    expect(conflict).toMatchObject([{ status: "conflict", clockFlag: "after_receipt" }]);

    const history = await world.services.redemptionSync.history(till.merchantId);
    const flags = Object.fromEntries(history.flagged.map((r) => [r.voucherId, r.clockFlag]));
    const ids = outcomes.map((o) => (o.status === "recorded" ? o.voucherId : ""));
    expect(flags).toEqual({
      [ids[0] as string]: "after_receipt",
      [ids[1] as string]: "before_issue",
    });
    expect(history.conflicts).toMatchObject([
      { deviceName: "Till Other", clockFlag: "after_receipt" },
    ]);
    expect(history.redemptions.find((r) => r.voucherId === ids[2])?.clockFlag).toBeNull();
  });

  it("takes a batch over HTTP with the device credential and refuses one without", async () => {
    const { enroll, shoppers, voucherToken } = await shop();
    const till = await enroll("Till HTTP");
    const token = await voucherToken(shoppers[0] as string);
    const envelope = { redemptions: [{ localId: "h-1", token, redeemedAt: now.toISOString() }] };
    const meta = { values: { "redemptions.0.redeemedAt": ["Date"] } };
    const response = await handleTrpcRequest(
      world.services,
      new Request("http://127.0.0.1/api/trpc/device.syncRedemptions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-device-credential": till.credential },
        body: JSON.stringify({ json: envelope, meta }),
      }),
      testCaller(),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      result: { data: { json: [{ localId: "h-1", status: "recorded" }] } },
    });
    const anonymous = await deviceCall("device.syncRedemptions", { redemptions: [] }, "");
    expect(anonymous.status).toBe(401);
  });
});

import { sql } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/db/client";
import { newId } from "@/lib/ids";
import { type FaultProxy, startFaultProxy } from "@/testing/fault-proxy";
import { type FaultWorld, startFaultWorld } from "@/testing/fault-sale";
import { createDeal, createMerchant, createShoppers, createStaff } from "@/testing/sale-fixtures";
import { testCaller } from "@/testing/test-caller";
import type { TestDatabase } from "@/testing/test-database";
import type { Services } from "@/testing/wired-services";
import { handleTrpcRequest } from "../api/http-handler";

/**
 * A counter device syncs its offline redemptions and the connection dies halfway through the
 * batch (DESIGN.md, invariant 6). The device cannot know how far the server got, so it sends
 * the same batch again: every voucher must end up redeemed exactly once, and the retry must
 * answer as if the first attempt had gone through. The app reaches its scratch database
 * through a fault proxy; the test checks the truth over a direct connection.
 */
describe("merchant sync interrupted mid-batch", () => {
  const BATCH = 30;
  let world: FaultWorld;
  let database: TestDatabase;
  let proxy: FaultProxy;
  let services: Services;

  beforeAll(async () => {
    world = await startFaultWorld({ keyPrefix: "sync:", redis: false });
    ({ database } = world);
    proxy = await startFaultProxy({ host: "127.0.0.1", port: Number(new URL(database.url).port) });
    services = await world.startApp(proxy.via(database.url));
  });
  afterAll(async () => {
    proxy?.up();
    await world?.stop();
    await proxy?.close();
  });

  /** A shop whose shoppers each won a voucher, and a counter device that redeemed them all. */
  async function redeemedOffline() {
    const merchant = await createMerchant(database.db);
    const staffId = await createStaff(database.db, merchant.id);
    const deal = await createDeal(database.db, merchant.id, { quantity: BATCH, now: new Date() });
    const vouchers: { id: string; token: string }[] = [];
    for (const shopper of await createShoppers(database.db, BATCH)) {
      const won = await services.claims.claim(shopper, {
        dealId: deal.id,
        idempotencyKey: newId(),
      });
      if (won.outcome !== "WON" || !won.voucherId) throw new Error(`no voucher: ${won.outcome}`);
      const { token } = await services.vouchers.forShopper(shopper, won.voucherId);
      vouchers.push({ id: won.voucherId, token });
    }
    const device = await services.devices.enroll(
      { userId: staffId, merchantId: merchant.id, role: "merchant", displayName: "Staff" },
      "Till 1",
    );
    const redeemedAt = new Date();
    const batch = {
      redemptions: vouchers.map((voucher, i) => ({
        localId: `local-${i}`,
        token: voucher.token,
        redeemedAt,
      })),
    };
    return { vouchers, batch, credential: device.credential };
  }

  /** The device's sync call over HTTP, as the PWA sends it. */
  async function syncOverHttp(batch: object, credential: string) {
    const response = await handleTrpcRequest(
      services,
      new Request("http://127.0.0.1/api/trpc/device.syncRedemptions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-device-credential": credential },
        body: JSON.stringify(superjson.serialize(batch)),
      }),
      testCaller(),
    );
    const body = (await response.json()) as {
      result?: { data: { json: unknown } };
      error?: unknown;
    };
    return { status: response.status, outcomes: body.result?.data.json, error: body.error };
  }

  const redemptionsPerVoucher = async (voucherIds: string[]) => {
    const rows = rowsOf<{ voucher_id: string; n: number }>(
      await database.db.execute(sql`
        SELECT voucher_id, count(*)::int AS n FROM redemptions
        WHERE voucher_id IN ${sql.raw(`(${voucherIds.map((id) => `'${id}'`).join(",")})`)}
        GROUP BY voucher_id`),
    );
    return new Map(rows.map((row) => [row.voucher_id, row.n]));
  };
  const conflictCount = async () => {
    const [row] = rowsOf<{ n: number }>(
      await database.db.execute(sql`SELECT count(*)::int AS n FROM redemption_conflicts`),
    );
    return row?.n;
  };

  it("records each voucher exactly once when the batch is sent again, and answers the retry consistently", async () => {
    const { vouchers, batch, credential } = await redeemedOffline();
    const ids = vouchers.map((voucher) => voucher.id);

    // Postgres drops out right after the 13th redemption committed, before the app hears
    // so: the device gets an error and cannot tell which of its redemptions arrived.
    proxy.downAfterAnswerTo(ids[12] as string);
    const interrupted = await syncOverHttp(batch, credential);
    expect(proxy.isDown).toBe(true);
    expect(interrupted.status).toBe(503);
    expect(interrupted.outcomes).toBeUndefined();
    const arrived = await redemptionsPerVoucher(ids);
    expect([...arrived.keys()].sort()).toEqual(ids.slice(0, 13).sort());

    // The device retries while Postgres is still away: refused again, nothing changes.
    const tooSoon = await syncOverHttp(batch, credential);
    expect(tooSoon.status).toBe(503);
    expect(await redemptionsPerVoucher(ids)).toEqual(arrived);

    // Postgres is back and the device sends the same batch once more: every entry is
    // recorded, as the first attempt would have answered, and each voucher holds one
    // redemption. Sending it yet again changes nothing and answers the same.
    proxy.up();
    const retried = await syncOverHttp(batch, credential);
    expect(retried.status).toBe(200);
    expect(retried.outcomes).toEqual(
      ids.map((voucherId, i) => ({ localId: `local-${i}`, status: "recorded", voucherId })),
    );
    const perVoucher = await redemptionsPerVoucher(ids);
    expect(perVoucher.size).toBe(BATCH);
    expect([...perVoucher.values()].every((n) => n === 1)).toBe(true);
    expect(await conflictCount()).toBe(0);

    expect(await syncOverHttp(batch, credential)).toEqual(retried);
    expect(await redemptionsPerVoucher(ids)).toEqual(perVoucher);
  }, 30_000);
});

import { randomUUID } from "node:crypto";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { bulkClaimsWithVouchers } from "../../testing/bulk-vouchers";
import {
  enrolledCounter,
  refreshNow,
  staffSignedIn,
  typeCode,
  watchTrustRequests,
} from "../fixtures/counter";
import { e2eSql } from "../fixtures/database";
import { createSale } from "../fixtures/sales";
import { apiSession, trpc } from "../fixtures/trpc";
import { claimCroissantVoucher, signAsServer } from "../fixtures/vouchers";

const OUTPUT = path.resolve(import.meta.dirname, "../.output");
const HOUR = 3_600_000;
const sql = e2eSql();

const signedInStaff = staffSignedIn();

test("after a refresh covering 10,000 revocations with one timestamp, one of them is refused offline", async ({
  browser,
  playwright,
  baseURL,
}) => {
  test.setTimeout(180_000);
  const now = Date.now();
  const { staff, ...deal } = await createSale(
    playwright,
    baseURL as string,
    "staff@bakkerij.test",
    {
      title: "Croissant day (cancelled in full)",
      quantity: 10_000,
      location: { lat: 52.3702, lng: 4.8952 },
    },
  );

  // One real voucher from a shopper; 9,999 more written straight into the database.
  const shopper = await apiSession(playwright, baseURL as string, "new shopper");
  const won = await trpc(shopper, "claims.claim", {
    dealId: deal.id,
    idempotencyKey: randomUUID(),
  });
  expect(won.data?.outcome, JSON.stringify(won)).toBe("WON");
  const voucher = await trpc(shopper, "vouchers.get", { voucherId: won.data.voucherId }, true);
  const bulk = bulkClaimsWithVouchers({
    prefix: "0000",
    dealId: deal.id,
    merchantId: deal.merchantId,
    count: 9_999,
    issuedAt: new Date(now),
    expiresAt: new Date(now + 24 * HOUR),
  });
  for (const statement of bulk) await sql.unsafe(statement);
  // The real one sorts after all the others, so no first page can hold it by chance.
  const [order] = await sql`
    SELECT bool_and(id < ${won.data.voucherId}) AS last FROM vouchers WHERE deal_id = ${deal.id}
      AND id <> ${won.data.voucherId}`;
  expect(order?.last).toBe(true);

  const till = await enrolledCounter(browser, "Till Big", {
    baseURL: baseURL as string,
    staffState: signedInStaff.storageState,
  });
  const cancelled = await trpc(staff, "sales.cancel", { dealId: deal.id, reason: "oven broke" });
  expect(cancelled.data?.claimsCancelled, JSON.stringify(cancelled)).toBe(10_000);
  const [stamps] = await sql`
    SELECT count(DISTINCT revoked_at)::int AS n FROM vouchers WHERE deal_id = ${deal.id}`;
  expect(stamps?.n).toBe(1);

  // Three triggers at once (as the timer, a reconnect and a scan can come): one refresh.
  const trust = watchTrustRequests(till.page);
  await refreshNow(till.page, 3);
  expect(trust.mostInFlight).toBe(1);
  // Ten pages of 1,000 (eleven with the shop's other recent revocations), and room for the
  // minute timer's next sync to have sent its first page.
  expect(trust.requests).toBeLessThanOrEqual(12);
  const stored = await till.page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open("dealdrop-counter");
        open.onsuccess = () => {
          const count = open.result.transaction("revocations").objectStore("revocations").count();
          count.onsuccess = () => resolve(count.result);
          count.onerror = () => reject(count.error);
        };
      }),
  );
  expect(stored).toBeGreaterThanOrEqual(10_000);

  await till.goOffline();
  await expect(await typeCode(till.page, voucher.data.token)).toContainText("REJECTED");
  await expect(till.page.getByTestId("verdict-reason")).toHaveText("Cancelled voucher");
  await till.page.screenshot({ path: path.join(OUTPUT, "counter-big-cancel.png"), fullPage: true });
  await till.close();
});

test("two tills: the first redeems and syncs, the second refreshes, goes offline and refuses the voucher", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const options = { baseURL: baseURL as string, staffState: signedInStaff.storageState };
  const first = await enrolledCounter(browser, "Till One", options);
  const second = await enrolledCounter(browser, "Till Two", options);

  await expect(await typeCode(first.page, voucher.token)).toContainText("ACCEPTED");
  await expect(first.page.getByTestId("history-entry")).toHaveAttribute("data-sync", "synced");

  await refreshNow(second.page);
  await second.goOffline();
  await expect(second.page.getByTestId("network")).toHaveText("offline");
  await expect(await typeCode(second.page, voucher.token)).toContainText("REJECTED");
  await expect(second.page.getByTestId("verdict-reason")).toHaveText("Already redeemed");
  await expect(second.page.getByTestId("verdict-message")).toContainText(
    'Already redeemed on device "Till One" at',
  );
  await second.page.screenshot({
    path: path.join(OUTPUT, "counter-other-till.png"),
    fullPage: true,
  });
  // Refused, so nothing waits to sync and no conflict will be made.
  await expect(second.page.getByTestId("history-entry")).toHaveCount(0);
  await first.close();
  await second.close();
});

test("a till whose clock is two hours behind refuses an expired voucher, and says its clock is off", async ({
  browser,
  baseURL,
}) => {
  const [croissant] = await sql`
    SELECT id, merchant_id FROM deals WHERE title LIKE 'Free croissant%' LIMIT 1`;
  // Issued three hours ago and expired an hour ago: by the till's own clock it is still good.
  const issued = Math.floor((Date.now() - 3 * HOUR) / 1_000);
  const token = signAsServer({
    jti: "ExpiredHour1",
    d: croissant?.id,
    m: croissant?.merchant_id,
    sub: "pairwiseSub1",
    iat: issued,
    nbf: issued,
    exp: issued + 2 * 3_600,
  });
  const till = await enrolledCounter(browser, "Till Behind", {
    baseURL: baseURL as string,
    staffState: signedInStaff.storageState,
    prepare: (context) => context.clock.install({ time: Date.now() - 2 * HOUR }),
  });
  expect(await till.page.evaluate(() => Date.now())).toBeLessThan(Date.now() - HOUR);
  await expect(till.page.getByTestId("clock-warning")).toContainText(/\d h \d+ min behind/);

  await till.goOffline();
  await expect(await typeCode(till.page, token)).toContainText("REJECTED");
  await expect(till.page.getByTestId("verdict-reason")).toHaveText("Expired");
  await expect(till.page.getByTestId("clock-warning")).toBeVisible();
  await till.page.screenshot({
    path: path.join(OUTPUT, "counter-clock-behind.png"),
    fullPage: true,
  });
  await till.close();
});

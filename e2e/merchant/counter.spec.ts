import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, expect, test } from "@playwright/test";
import { enrolledCounter, scanPhoto, staffSignedIn, typeCode } from "../fixtures/counter";
import { e2eSql } from "../fixtures/database";
import { trpc } from "../fixtures/trpc";
import { claimCroissantVoucher, writeQrImage } from "../fixtures/vouchers";

const OUTPUT = path.resolve(import.meta.dirname, "../.output");
mkdirSync(OUTPUT, { recursive: true });
const sql = e2eSql();

const signedInStaff = staffSignedIn();

/** A counter enrolled under `name`, on a network of its own that the test can cut. */
const counter = (browser: Browser, baseURL: string | undefined, name: string) =>
  enrolledCounter(browser, name, {
    baseURL: baseURL as string,
    staffState: signedInStaff.storageState,
  });

test("verifies offline from the service worker, refuses a second scan and a forgery, keeps history, syncs to Postgres", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const image = await writeQrImage(voucher.token, path.join(OUTPUT, "voucher-qr.png"));
  const till = await counter(browser, baseURL, "Till 1");
  const { context, page } = till;

  await till.goOffline();
  await page.reload();
  await expect(page.getByTestId("network")).toHaveText("offline");
  await expect(page.getByText("Bakkerij de Jong · Till 1")).toBeVisible();

  const verdict = await scanPhoto(page, image);
  // The first photo scan also loads the scanner's code (from the service worker's cache).
  await expect(verdict).toContainText("ACCEPTED", { timeout: 15_000 });
  await expect(verdict).toContainText("Free croissant, fresh from the oven");
  await page.screenshot({ path: path.join(OUTPUT, "counter-accepted.png"), fullPage: true });

  await page.getByRole("button", { name: "Scan next" }).click();
  await scanPhoto(page, image);
  await expect(page.getByTestId("verdict-reason")).toHaveText("Already redeemed");
  await expect(page.getByTestId("verdict-message")).toContainText(
    "Already redeemed on this device at",
  );
  await page.screenshot({ path: path.join(OUTPUT, "counter-repeat.png"), fullPage: true });

  const [h, p, s] = voucher.token.split(".");
  await typeCode(page, `${h}.${p?.slice(0, -4)}AAAA.${s}`);
  await expect(page.getByTestId("verdict-reason")).toHaveText(
    /Forged or altered voucher|Not a Dealdrop voucher/,
  );

  // A real voucher (from another installation) whose QR ZXing cannot read: jsQR reads it, and
  // the verifier refuses it for its unknown key instead of the device claiming there is no code.
  await page.getByRole("button", { name: "Scan next" }).click();
  await scanPhoto(page, path.resolve(import.meta.dirname, "../fixtures/zxing-misses-this-qr.png"));
  await expect(page.getByTestId("verdict-reason")).toHaveText("Signed with an unknown key");

  // Closed and reopened with no network: the app and its history are still there.
  await page.close();
  const reopened = await context.newPage();
  await reopened.goto("/merchant");
  const entry = reopened.getByTestId("history-entry");
  await expect(entry).toHaveCount(1);
  await expect(entry).toHaveAttribute("data-sync", "pending");
  // Nothing got through while the network was cut, the service worker's requests included.
  expect(await sql`SELECT 1 FROM redemptions WHERE voucher_id = ${voucher.voucherId}`).toHaveLength(
    0,
  );

  await till.goOnline(reopened);
  await expect(entry).toHaveAttribute("data-sync", "synced");
  const rows = await sql`
    SELECT d.name FROM redemptions r JOIN merchant_devices d ON d.id = r.device_id
    WHERE r.voucher_id = ${voucher.voucherId}`;
  expect(rows.map((row) => row.name)).toEqual(["Till 1"]);
  await reopened.screenshot({ path: path.join(OUTPUT, "counter-history.png"), fullPage: true });
  await till.close();
});

test("two offline devices redeem one voucher: both sync, the second shows the conflict, the server records it", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const a = await counter(browser, baseURL, "Till A");
  const b = await counter(browser, baseURL, "Till B");
  await a.goOffline();
  await b.goOffline();
  await expect(await typeCode(a.page, voucher.token)).toContainText("ACCEPTED");
  await expect(await typeCode(b.page, voucher.token)).toContainText("ACCEPTED");

  await a.goOnline();
  await expect(a.page.getByTestId("history-entry")).toHaveAttribute("data-sync", "synced");
  await b.goOnline();
  const conflict = b.page.getByTestId("history-entry");
  await expect(conflict).toHaveAttribute("data-sync", "conflict");
  await expect(b.page.getByTestId("conflict-note")).toContainText(
    'First redeemed on device "Till A"',
  );
  await b.page.screenshot({ path: path.join(OUTPUT, "counter-conflict.png"), fullPage: true });

  const recorded = await sql`
    SELECT d.name FROM redemption_conflicts c JOIN merchant_devices d ON d.id = c.device_id
    WHERE c.voucher_id = ${voucher.voucherId}`;
  expect(recorded.map((row) => row.name)).toEqual(["Till B"]);

  // Staff see it on the shop's devices page too.
  await b.page.getByRole("link", { name: "Devices and conflicts" }).click();
  await expect(b.page.getByTestId("conflict-row")).toContainText('Redeemed on "Till B"');
  await expect(b.page.getByTestId("conflict-row")).toContainText('but first on "Till A"');
  await b.page.screenshot({ path: path.join(OUTPUT, "counter-devices.png"), fullPage: true });
  await a.close();
  await b.close();
});

test("redeemed offline, cancelled online before the device synced: the counter and the devices page show a redemption after cancellation, with both times", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const till = await counter(browser, baseURL, "Till C");
  await till.goOffline();
  await expect(await typeCode(till.page, voucher.token)).toContainText("ACCEPTED");
  expect((await trpc(voucher.shopper, "claims.cancel", { claimId: voucher.claimId })).status).toBe(
    200,
  );

  await till.goOnline();
  await expect(till.page.getByTestId("history-entry")).toHaveAttribute("data-sync", "conflict");
  await expect(till.page.getByTestId("cancelled-note")).toContainText(
    "before this redemption reached Dealdrop",
  );
  const recorded = await sql`
    SELECT kind FROM redemption_conflicts WHERE voucher_id = ${voucher.voucherId}`;
  expect(recorded.map((row) => row.kind)).toEqual(["redeemed_after_cancellation"]);
  expect(await sql`SELECT 1 FROM redemptions WHERE voucher_id = ${voucher.voucherId}`).toHaveLength(
    0,
  );

  await till.page.getByRole("link", { name: "Devices and conflicts" }).click();
  const row = till.page.locator(
    '[data-testid="conflict-row"][data-kind="redeemed_after_cancellation"]',
  );
  await expect(row).toContainText("redeemed after cancellation");
  await expect(row).toContainText('Redeemed on "Till C" at');
  await expect(row).toContainText("but the voucher was cancelled at");
  await till.page.screenshot({
    path: path.join(OUTPUT, "counter-redeemed-after-cancellation.png"),
    fullPage: true,
  });
  await till.close();
});

test("a revocation synced before going offline is refused offline; a revoked device's sync is refused", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  expect((await trpc(voucher.shopper, "claims.cancel", { claimId: voucher.claimId })).status).toBe(
    200,
  );
  const till = await counter(browser, baseURL, "Till R");
  const { page } = till;
  await till.goOffline();
  await expect(await typeCode(page, voucher.token)).toContainText("REJECTED");
  await expect(page.getByTestId("verdict-reason")).toHaveText("Cancelled voucher");

  // Redeem another voucher offline, then the device is revoked: its sync is refused, clearly.
  const other = await claimCroissantVoucher(playwright, baseURL as string);
  await page.getByRole("button", { name: "Scan next" }).click();
  await expect(await typeCode(page, other.token)).toContainText("ACCEPTED");
  const staff = await playwright.request.newContext({
    baseURL,
    storageState: signedInStaff.storageState,
  });
  const devices = await trpc(staff, "merchant.devices", undefined, true);
  const enrolled = devices.data.find((d: { name: string }) => d.name === "Till R");
  expect((await trpc(staff, "merchant.revokeDevice", { deviceId: enrolled.deviceId })).status).toBe(
    200,
  );

  await till.goOnline();
  await expect(page.getByTestId("device-problem")).toContainText("This device was revoked");
  await expect(page.getByTestId("history-entry")).toHaveAttribute("data-sync", "pending");
  const rows = await sql`SELECT 1 FROM redemptions WHERE voucher_id = ${other.voucherId}`;
  expect(rows).toHaveLength(0);
  await page.screenshot({ path: path.join(OUTPUT, "counter-revoked.png"), fullPage: true });
  await till.close();
});

test("past the trust age limit the device refuses to verify offline, and says why", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const till = await counter(browser, baseURL, "Till Old");
  const { page } = till;
  await till.goOffline();
  // As if the last refresh were 25 hours ago (the limit is 24 h).
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open("dealdrop-counter");
        open.onsuccess = () => {
          const tx = open.result.transaction("trust", "readwrite");
          const store = tx.objectStore("trust");
          const read = store.get("bundle");
          read.onsuccess = () =>
            store.put({ ...read.result, refreshedAt: Date.now() - 25 * 3_600_000 }, "bundle");
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.reload();
  await expect(page.getByTestId("trust-age")).toContainText(
    "Offline checks paused: keys and cancellations updated 25 h",
  );
  await typeCode(page, voucher.token);
  await expect(page.getByTestId("verdict-reason")).toHaveText("Keys out of date");
  await expect(page.getByTestId("verdict")).toContainText(
    "Connect to the internet to update them.",
  );
  await page.screenshot({ path: path.join(OUTPUT, "counter-stale.png"), fullPage: true });

  await till.goOnline();
  await expect(page.getByTestId("trust-age")).toContainText("updated just now");
  await page.getByRole("button", { name: "Scan next" }).click();
  await expect(await typeCode(page, voucher.token)).toContainText("ACCEPTED");
  await till.close();
});

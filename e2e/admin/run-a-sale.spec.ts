import { expect, test } from "@playwright/test";
import { claimBurst, mintShoppers } from "../fixtures/claim-load";
import { e2eSql } from "../fixtures/database";
import { signInInBrowser } from "../fixtures/shopper";
import { trpc } from "../fixtures/trpc";

const sql = e2eSql(1);

/** A `datetime-local` value in the browser's (this machine's) time zone. */
function localInput(date: Date) {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

test("an admin sets up a merchant and a sale, its new staff manage only their own deals, and the monitor follows a burst of claims", async ({
  browser,
  playwright,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  const admin = await (await browser.newContext()).newPage();
  await signInInBrowser(admin, "admin@dealdrop.test");
  await expect(admin).toHaveURL(/\/admin$/);

  // A merchant, with a member of staff invited by link.
  await admin.getByRole("link", { name: "Merchants" }).click();
  const shopName = `Broodje Bram ${stamp}`;
  const newMerchant = admin.getByRole("region", { name: "New merchant" });
  await newMerchant.getByLabel("Name").fill(shopName);
  await newMerchant.getByLabel("Address").fill("Spuistraat 2, Amsterdam");
  await newMerchant.getByLabel("Latitude").fill("52.3760");
  await newMerchant.getByLabel("Longitude").fill("4.8900");
  await newMerchant.getByRole("button", { name: "Create merchant" }).click();
  await expect(admin.getByRole("heading", { name: shopName })).toBeVisible();
  const staffEmail = `bram-${stamp}@broodje.test`;
  const invite = admin.getByRole("region", { name: "Invite staff" });
  await invite.getByLabel("Name").fill("Bram");
  await invite.getByLabel("Email").fill(staffEmail);
  await invite.getByRole("button", { name: "Create invitation link" }).click();
  const inviteUrl = await admin.getByTestId("invite-link").getByRole("textbox").inputValue();

  const staff = await (await browser.newContext()).newPage();
  await staff.goto(inviteUrl);
  await staff.getByLabel("Password (at least 10 characters)").fill("bram-bakes-bread");
  await staff.getByLabel("Confirm password").fill("bram-bakes-bread");
  await staff.getByRole("button", { name: `Join ${shopName}` }).click();
  await expect(staff).toHaveURL(/\/merchant$/);

  // The admin creates a sale for that merchant, live from a minute ago.
  await admin.goto("/admin/deals/new");
  await admin.getByLabel("Merchant").selectOption({ label: shopName });
  const title = `Free broodje kroket ${stamp}`;
  await admin.getByLabel("Title").fill(title);
  await admin.getByLabel("Quantity").fill("0");
  await admin.getByRole("button", { name: "Create deal" }).click();
  await expect(admin.locator(".form-summary")).toContainText("quantity must be at least 1");
  await admin.getByLabel("Quantity").fill("30");
  const now = Date.now();
  await admin.getByLabel("Sale starts").fill(localInput(new Date(now - 60_000)));
  await admin.getByLabel("Sale ends").fill(localInput(new Date(now + 3_600_000)));
  await admin.getByRole("button", { name: "Create deal" }).click();
  await expect(admin).toHaveURL(/\/admin\/deals\/[0-9A-Za-z]{12}$/);
  const dealId = admin.url().split("/").at(-1) as string;

  // The storefront shows it.
  const shopper = await (await browser.newContext()).newPage();
  await shopper.goto(`/deals/${dealId}`);
  await expect(shopper.getByRole("heading", { name: title })).toBeVisible();
  await expect(shopper.getByTestId("live-stock")).toHaveText(/30 of 30 left/);

  // The new staff see their own deal only, and grow its quantity while it is live.
  await staff.goto("/merchant/deals");
  await expect(staff.getByTestId("deal-row")).toHaveCount(1);
  await staff.getByRole("link", { name: title }).click();
  await expect(staff.getByLabel("Sale starts")).toBeDisabled();
  await staff.getByLabel("Quantity").fill("20");
  await staff.getByRole("button", { name: "Save changes" }).click();
  await expect(staff.locator(".form-summary")).toContainText("can only grow");
  await staff.getByLabel("Quantity").fill("40");
  await staff.getByRole("button", { name: "Save changes" }).click();
  await expect(shopper.getByTestId("live-stock")).toHaveText(/40 of 40 left/);

  // Another merchant's deal is refused by the API itself, not just left out of the list.
  const staffApi = await playwright.request.newContext({
    baseURL,
    storageState: await staff.context().storageState(),
  });
  const [croissant] =
    await sql`SELECT id, quantity FROM deals WHERE title = 'Free croissant, fresh from the oven'`;
  for (const [procedure, input, query] of [
    ["sales.get", { dealId: croissant?.id }, true],
    ["sales.update", { dealId: croissant?.id, changes: { quantity: 999 } }, false],
    ["sales.cancel", { dealId: croissant?.id, reason: "not mine" }, false],
  ] as const) {
    const answer = await trpc(staffApi, procedure, input, query);
    expect({ procedure, status: answer.status }).toEqual({ procedure, status: 403 });
  }
  const [after] = await sql`SELECT quantity, status FROM deals WHERE id = ${croissant?.id}`;
  expect(after).toEqual({ quantity: croissant?.quantity, status: "active" });

  // A short bounded burst: 60 shoppers, 75 attempts over 6 s, on 40 units.
  await admin.reload();
  await expect(admin.getByTestId("monitor-sold")).toContainText("0 / 40");
  const bars = admin.getByTestId("monitor-chart-attempts").locator("rect");
  const barsBefore = await bars.count();
  const shoppers = await mintShoppers(sql, 60);
  const burst = claimBurst({ baseURL: baseURL as string, dealId, shoppers, seconds: 6 });
  await expect(admin.getByTestId("monitor-attempts-per-second").locator(".tile-value")).toHaveText(
    /^([1-9]|0\.[1-9])/,
    { timeout: 10_000 },
  );
  const outcomes = await burst;
  expect(outcomes).toEqual({ WON: 40, SOLD_OUT: 20, ALREADY_CLAIMED: 15 });
  await expect(admin.getByTestId("monitor-sold")).toContainText("40 / 40");
  await expect(admin.getByTestId("monitor-gate")).toContainText("in sync");
  await expect(admin.getByTestId("monitor-p99")).toContainText(/\d+(\.\d+)? ms/);
  expect(await bars.count()).toBeGreaterThan(barsBefore);
  await admin.screenshot({ path: "e2e/.output/admin-monitor.png", fullPage: true });

  const [truth] = await sql`
    SELECT d.quantity, d.sold, count(c.id)::int AS active,
           count(DISTINCT c.user_id)::int AS shoppers
    FROM deals d LEFT JOIN claims c ON c.deal_id = d.id AND c.status IN ('reserved', 'confirmed')
    WHERE d.id = ${dealId} GROUP BY d.id`;
  expect(truth).toEqual({ quantity: 40, sold: 40, active: 40, shoppers: 40 });

  // Every change is in the audit log, with who made it.
  await admin.goto("/admin/audit");
  const log = admin.getByTestId("audit-row");
  await expect(log.filter({ hasText: "deal.update" }).first()).toContainText("Bram");
  await expect(log.filter({ hasText: "deal.create" }).first()).toContainText("Ada Admin");
  await expect(log.filter({ hasText: "staff.join" }).first()).toContainText("Bram");
  await expect(log.filter({ hasText: "merchant.create" }).first()).toContainText("Ada Admin");
});

import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { e2eSql } from "../fixtures/database";
import { apiSession } from "../fixtures/trpc";

const sql = e2eSql(1);

/** A live free deal with two units at the first demo merchant, made directly in Postgres. */
async function twoUnitDeal() {
  const id = randomUUID().replace(/-/g, "").slice(0, 12);
  const [merchant] = await sql`SELECT id, lat, lng FROM merchants ORDER BY name LIMIT 1`;
  await sql`
    INSERT INTO deals (id, merchant_id, title, description, quantity, starts_at, ends_at, voucher_valid_until, lat, lng)
    VALUES (${id}, ${merchant?.id}, 'Two cinnamon buns', 'Fresh from the oven.', 2,
            now() - interval '1 minute', now() + interval '1 hour', now() + interval '7 days',
            ${merchant?.lat}, ${merchant?.lng})`;
  return id;
}

test("two shoppers on one deal page: a claim in one lowers the count in the other, the last unit shows sold out in both", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const dealId = await twoUnitDeal();
  const pages = [];
  for (let i = 0; i < 2; i++) {
    const shopper = await apiSession(playwright, baseURL as string, "new shopper");
    const context = await browser.newContext({ storageState: await shopper.storageState() });
    const page = await context.newPage();
    await page.goto(`/deals/${dealId}`);
    await expect(page.getByTestId("live-stock")).toHaveText(/2 of 2 left/);
    pages.push(page);
  }
  const [first, second] = pages as [(typeof pages)[number], (typeof pages)[number]];

  await first.getByRole("button", { name: "Claim" }).click();
  await expect(first.getByRole("status")).toHaveText("You got one!");
  await expect(second.getByTestId("live-stock")).toHaveText(/1 of 2 left/);

  await second.getByRole("button", { name: "Claim" }).click();
  await expect(second.getByRole("status")).toHaveText("You got one!");
  for (const page of pages) await expect(page.getByTestId("live-stock")).toHaveText("Sold out");
  await second.setViewportSize({ width: 390, height: 844 });
  await second.screenshot({ path: "e2e/.output/deal-page-phone.png", fullPage: true });

  // A third shopper arriving now sees it sold out, button too.
  const late = await apiSession(playwright, baseURL as string, "new shopper");
  const third = await (
    await browser.newContext({ storageState: await late.storageState() })
  ).newPage();
  await third.goto(`/deals/${dealId}`);
  await expect(third.getByTestId("live-stock")).toHaveText("Sold out");
  await expect(third.getByRole("button", { name: "Sold out" })).toBeDisabled();
});

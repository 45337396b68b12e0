import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import { openDealPage, signUpInBrowser } from "../fixtures/shopper";

/** Serious and critical findings only: those block someone from using the page. */
async function blockingViolations(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
}

test("home, deal, vouchers and voucher pages have no serious or critical accessibility violations", async ({
  page,
}) => {
  await page.goto("/");
  await expect(page.getByTestId("deal-card").first()).toBeVisible();
  expect(await blockingViolations(page), "home").toEqual([]);

  await openDealPage(page, "Free croissant");
  expect(await blockingViolations(page), "deal page").toEqual([]);

  await page.goto("/sign-in");
  expect(await blockingViolations(page), "sign-in").toEqual([]);
  // A new shopper, so the demo shoppers' claims elsewhere are untouched.
  await signUpInBrowser(page, "Ada");
  const croissant = page.getByTestId("deal-card").filter({ hasText: "Free croissant" });
  await croissant.getByRole("button", { name: "Claim" }).click();
  await croissant.getByRole("link", { name: "Show my voucher" }).click();
  await expect(page.getByTestId("voucher-qr").locator("svg")).toBeVisible();
  expect(await blockingViolations(page), "voucher").toEqual([]);

  await page.goto("/vouchers");
  await expect(page.getByTestId("my-voucher")).toHaveCount(1);
  expect(await blockingViolations(page), "vouchers").toEqual([]);

  // Give the unit back, so the demo stock the other tests count is as seeded.
  await page.getByTestId("my-voucher").getByRole("link").click();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel this voucher" }).click();
  await expect(page.getByRole("status").filter({ hasText: "was cancelled" })).toBeVisible();
});

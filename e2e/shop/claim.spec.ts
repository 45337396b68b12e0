import { expect, test } from "@playwright/test";
import { openDealPage, signUpInBrowser } from "../fixtures/shopper";

const SHOPPER = { email: "sam@shopper.test", password: "dealdrop-demo" };

test("a shopper signs in, claims the live demo deal once despite a double click, and sees it listed", async ({
  page,
}) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Flash deals around you" })).toBeVisible();
  await expect(page.getByTestId("deal-card")).toHaveCount(4);
  const soldOut = page.getByTestId("deal-card").filter({ hasText: "Latte art masterclass seat" });
  // Signed out, a sold-out card offers nothing to sign in for: its button says sold out.
  await expect(soldOut.getByRole("button", { name: "Sold out" })).toBeDisabled();
  await expect(soldOut.getByRole("link", { name: "Sign in to claim" })).toHaveCount(0);

  await page.getByRole("link", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Email").fill(SHOPPER.email);
  await page.getByLabel("Password").fill(SHOPPER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText("Sam");

  const croissant = page.getByTestId("deal-card").filter({ hasText: "Free croissant" });
  await expect(croissant.getByText("100 of 100 left")).toBeVisible({ timeout: 15_000 });
  await croissant.getByRole("button", { name: "Claim" }).dblclick();
  await expect(croissant.getByRole("status")).toHaveText("You got one!");
  await expect(croissant.getByText("99 of 100 left")).toBeVisible({ timeout: 15_000 });
  // Sam holds one of its seats (the seed): the card says so instead of "Sold out".
  await expect(soldOut.getByRole("button", { name: "Claimed" })).toBeDisabled();
  await expect(soldOut.getByText("You have claimed this deal.")).toBeVisible();
  await page.screenshot({ path: "e2e/.output/storefront.png", fullPage: true });

  await page.getByRole("link", { name: "My claims" }).click();
  await expect(page.getByTestId("my-claim").filter({ hasText: "Free croissant" })).toHaveCount(1);
  await page.screenshot({ path: "e2e/.output/my-claims.png", fullPage: true });
});

test("a wrong password gets a clear message and no session", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(SHOPPER.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toHaveText("Email or password is wrong.");
  await expect(page.getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
});

test("a reload while the claim is in flight, then another click, still makes exactly one claim", async ({
  page,
}) => {
  await signUpInBrowser(page, "Rui");
  await openDealPage(page, "Free croissant");

  // The first attempt reaches the server, but its answer never reaches the page: it is
  // held until the page has been reloaded (a fixed delay raced a slow reload once).
  let sent!: () => void;
  const requestSent = new Promise<void>((resolve) => {
    sent = resolve;
  });
  let reloaded!: () => void;
  const pageReloaded = new Promise<void>((resolve) => {
    reloaded = resolve;
  });
  await page.route("**/api/claim", async (route) => {
    sent();
    await route.fetch();
    await pageReloaded;
    await route.abort().catch(() => undefined);
  });
  await page.getByRole("button", { name: "Claim" }).click();
  await requestSent;
  await page.reload();
  await page.unrouteAll({ behavior: "ignoreErrors" });
  reloaded();

  // The reloaded page reads the shopper's claims: the one the lost answer made is held, so
  // it offers the voucher, never a second Claim.
  await expect(page.getByRole("button", { name: "Claimed" })).toBeDisabled();
  await expect(page.getByTestId("claim-status")).toHaveText("You have claimed this deal.");
  await page.getByRole("link", { name: "My claims" }).click();
  await expect(page.getByTestId("my-claim")).toHaveCount(1);
});

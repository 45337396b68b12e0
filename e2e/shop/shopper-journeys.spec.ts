import { expect, type Page, test } from "@playwright/test";
import { createSale } from "../fixtures/sales";
import { signInInBrowser } from "../fixtures/shopper";
import { trpc } from "../fixtures/trpc";

/**
 * The shopper's journeys on a phone (issue 19, Shopper). Deals made here sit in Utrecht, out of
 * reach of the Amsterdam lists the other storefront specs count.
 */
const UTRECHT = { latitude: 52.0907, longitude: 5.1214 };
const HOUR = 3_600_000;

test.use({
  viewport: { width: 390, height: 844 },
  permissions: ["geolocation"],
  geolocation: UTRECHT,
});

function createUtrechtDeal(
  playwright: Parameters<typeof createSale>[0],
  baseURL: string,
  fields: {
    title: string;
    geofenceRadiusM?: number | null;
    priceCents?: number;
    startsInMs?: number;
    finePrint?: string;
  },
) {
  const now = Date.now();
  return createSale(playwright, baseURL, "staff@koffie.test", {
    description: "Made by the shopper journeys spec.",
    quantity: 5,
    location: { lat: UTRECHT.latitude, lng: UTRECHT.longitude },
    pickupStartsAt: new Date(now + HOUR),
    pickupEndsAt: new Date(now + 2 * HOUR),
    ...fields,
  });
}

/** The home list at the demo city's first place, picked through the folded location panel. */
async function openHomeInAmsterdam(page: Page) {
  await page.goto("/");
  await page.getByRole("button", { name: "Change" }).click();
  await page.getByLabel("Pick a place").selectOption({ index: 1 });
}

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: `e2e/.output/shopper-${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `e2e/.output/shopper-${name}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
}

test("a geo-fenced deal is claimed from the home list, and its cancelled voucher says no validity", async ({
  page,
  playwright,
  baseURL,
}) => {
  const deal = await createUtrechtDeal(playwright, baseURL as string, {
    title: "Geo-fenced stroopwafel",
    geofenceRadiusM: 200,
  });
  await signInInBrowser(page, "noor@shopper.test");
  await expect(page.getByTestId("signed-in-as")).toHaveText("Noor");
  await page.goto("/");
  await expect(page.getByTestId("location-label")).toContainText("your location");
  const card = page.getByTestId("deal-card").filter({ hasText: "Geo-fenced stroopwafel" });
  await card.getByRole("button", { name: "Claim" }).click();
  await expect(card.getByRole("status")).toHaveText("You got one!");

  await card.getByRole("link", { name: "Show my voucher" }).click();
  await expect(page.getByTestId("voucher-expiry")).toBeVisible();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel this voucher" }).click();
  await expect(page.getByRole("status").filter({ hasText: "was cancelled" })).toBeVisible();
  await expect(page.getByText("Valid until")).toHaveCount(0);
  await page.goto(`/deals/${deal.id}`);
  await expect(page.getByTestId("live-stock")).toBeVisible();
});

test("sign-in from a deal returns to the deal; a return path to another site is refused", async ({
  page,
  playwright,
  baseURL,
}) => {
  const deal = await createUtrechtDeal(playwright, baseURL as string, { title: "Return trip" });
  await page.goto(`/deals/${deal.id}`);
  await page.getByRole("link", { name: "Sign in to claim" }).click();
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByLabel("Email").fill("lucas@shopper.test");
  await page.getByLabel("Password").fill("dealdrop-demo");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/deals/${deal.id}$`));
  await expect(page.getByRole("button", { name: "Claim" })).toBeVisible();

  for (const next of ["//evil.com", "https://evil.com"]) {
    await page.context().clearCookies();
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Email").fill("lucas@shopper.test");
    await page.getByLabel("Password").fill("dealdrop-demo");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByTestId("signed-in-as")).toHaveText("Lucas");
    // The header can say who is signed in a moment before the page has moved on: wait for the URL.
    await expect(page).toHaveURL(new URL("/", baseURL as string).href);
  }
});

test("sign-up states the password rules before submit", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByRole("button", { name: /create an account/i }).click();
  await expect(page.getByTestId("password-rules")).toHaveText(/At least 10 characters/);
  await expect(page.getByLabel("Password")).toHaveAccessibleDescription(/At least 10 characters/);
  await shoot(page, "sign-up");
});

test("a signed-out shopper sees sold out, not 'Sign in to claim', on a sold-out card", async ({
  page,
}) => {
  await openHomeInAmsterdam(page);
  const soldOut = page.getByTestId("deal-card").filter({ hasText: "Latte art masterclass seat" });
  await expect(soldOut.getByRole("button", { name: "Sold out" })).toBeDisabled();
  await expect(soldOut.getByRole("link", { name: "Sign in to claim" })).toHaveCount(0);
  const croissant = page.getByTestId("deal-card").filter({ hasText: "Free croissant" });
  await expect(croissant.getByRole("link", { name: "Sign in to claim" })).toBeVisible();
});

test("on a phone the location panel is one line until opened, and deals show on the first screen", async ({
  page,
}) => {
  await openHomeInAmsterdam(page);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByLabel("Pick a place")).toBeHidden();
  const panel = await page.getByRole("region", { name: "Where to look" }).boundingBox();
  expect(panel?.height ?? 999).toBeLessThan(100);
  const firstCard = await page.getByTestId("deal-card").first().boundingBox();
  expect(firstCard?.y ?? 999).toBeLessThan(844 / 2);
  await shoot(page, "home");
});

test("a malformed deal link and an unknown address get human pages, never ids or field paths", async ({
  page,
}) => {
  await page.goto("/deals/not-an-id");
  await expect(page.getByText("This deal does not exist or is no longer listed.")).toBeVisible();
  await expect(page.locator("main")).not.toContainText("dealId");
  await expect(page.locator("main")).not.toContainText("12-character");

  const missing = await page.goto("/no-such-page");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "See the deals near you" })).toBeVisible();
  await shoot(page, "not-found");
});

test("a priced claim has one current status line: declined, claimed again without a reload, paid, and held after a reload", async ({
  page,
  playwright,
  baseURL,
}) => {
  await createUtrechtDeal(playwright, baseURL as string, {
    title: "Priced poffertjes",
    priceCents: 350,
  });
  await signInInBrowser(page, "sam@shopper.test");
  await expect(page.getByTestId("signed-in-as")).toHaveText("Sam");
  await page.goto("/");
  const card = page.getByTestId("deal-card").filter({ hasText: "Priced poffertjes" });
  await card.getByRole("button", { name: "Claim" }).click();
  await expect(card.getByTestId("reservation")).toContainText("Reserved for you for");
  await card.getByLabel("Card").selectOption("decline");
  await card.getByRole("button", { name: "Pay €3.50" }).click();
  await expect(card.getByTestId("claim-status")).toHaveText(/^Payment declined\./);
  await expect(card.getByText("Reserved for you for")).toHaveCount(0);

  await card.getByRole("button", { name: "Claim again" }).click();
  await expect(card.getByTestId("reservation")).toContainText("Reserved for you for");
  await expect(card.getByText("Payment declined")).toHaveCount(0);
  await card.getByRole("button", { name: "Pay €3.50" }).click();
  await expect(card.getByTestId("claim-status")).toHaveText("Paid. Your voucher is ready.");
  await expect(card.getByText("Reserved for you for")).toHaveCount(0);
  await expect(card.getByText("Payment declined")).toHaveCount(0);
  await shoot(page, "paid");

  await page.reload();
  const reloaded = page.getByTestId("deal-card").filter({ hasText: "Priced poffertjes" });
  await expect(reloaded.getByRole("button", { name: "Claimed" })).toBeDisabled();
  await expect(reloaded.getByRole("button", { name: "Claim", exact: true })).toHaveCount(0);
  await expect(reloaded.getByRole("link", { name: "Show my voucher" })).toBeVisible();
});

test("the deal page: an upcoming deal counts down, with fine print, pickup, distance and directions; a cancelled one says so", async ({
  page,
  playwright,
  baseURL,
}) => {
  const deal = await createUtrechtDeal(playwright, baseURL as string, {
    title: "Upcoming oliebollen",
    startsInMs: 2 * 60_000,
    finePrint: "One bag per person.",
  });
  await page.goto(`/deals/${deal.id}`);
  await expect(page.getByTestId("live-stock")).toHaveText(/^Starts in [12]:\d\d$/);
  await expect(page.getByTestId("live-stock")).not.toContainText("left");
  await expect(page.getByTestId("fine-print")).toHaveText("One bag per person.");
  await expect(page.getByTestId("pickup-window")).toContainText("(Europe/Amsterdam)");
  await expect(page.getByTestId("deal-distance")).toHaveText(/^\d+ m away$/);
  await expect(page.getByRole("link", { name: "Directions" })).toHaveAttribute(
    "href",
    `https://www.google.com/maps/dir/?api=1&destination=${UTRECHT.latitude},${UTRECHT.longitude}`,
  );
  await expect(page.getByRole("link", { name: "Sign in to claim" })).toBeVisible();
  await shoot(page, "deal-upcoming");

  const cancelled = await trpc(deal.staff, "sales.cancel", { dealId: deal.id, reason: "no oil" });
  expect(cancelled.status, JSON.stringify(cancelled.error)).toBe(200);
  // The deal's details are read through a short cache: reload until it has the cancellation.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("live-stock")).toHaveText("Cancelled by the shop", {
      timeout: 2_000,
    });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Cancelled" })).toBeDisabled();
});

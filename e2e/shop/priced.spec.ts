import { expect, type Page, test } from "@playwright/test";
import { createSale } from "../fixtures/sales";

async function signIn(page: Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("dealdrop-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
  return page.getByTestId("deal-card").filter({ hasText: "Lunch box for two" });
}

test("a priced deal: reserve and pay (approved) gives a voucher; a declined card puts the unit back", async ({
  browser,
}) => {
  const lucas = await (await browser.newContext()).newPage();
  const lunch = await signIn(lucas, "lucas@shopper.test");
  await expect(lunch.getByTestId("remaining")).toContainText("25 of 25 left", { timeout: 15_000 });
  await lunch.getByRole("button", { name: "Claim" }).click();
  await expect(lunch.getByTestId("reservation")).toContainText("Reserved for you for");
  await expect(lunch.getByTestId("remaining")).toContainText("24 of 25 left", { timeout: 15_000 });
  await lucas.screenshot({ path: "e2e/.output/reservation.png", fullPage: true });
  await lunch.getByRole("button", { name: "Pay €4.50" }).click();
  await expect(lunch.getByText("Paid. Your voucher is ready.")).toBeVisible();
  await lunch.getByRole("link", { name: "Show my voucher" }).click();
  await expect(lucas.getByTestId("voucher-qr").locator("svg")).toBeVisible();

  const noor = await (await browser.newContext()).newPage();
  const noorsLunch = await signIn(noor, "noor@shopper.test");
  await noorsLunch.getByRole("button", { name: "Claim" }).click();
  await expect(noorsLunch.getByTestId("remaining")).toContainText("23 of 25 left", {
    timeout: 15_000,
  });
  await noorsLunch.getByLabel("Card").selectOption("decline");
  await noorsLunch.getByRole("button", { name: "Pay €4.50" }).click();
  await expect(noorsLunch.getByText("Payment declined. The unit went back on sale.")).toBeVisible();
  await expect(noorsLunch.getByTestId("remaining")).toContainText("24 of 25 left", {
    timeout: 15_000,
  });
});

test("a reservation left unpaid expires: the countdown runs out, the unit comes back, My claims says expired", async ({
  page,
  playwright,
  baseURL,
}) => {
  // Its own three units, in Utrecht (out of reach of the Amsterdam lists other specs count).
  const { id: dealId } = await createSale(playwright, baseURL as string, "staff@koffie.test", {
    title: "Soup of the day",
    priceCents: 350,
    quantity: 3,
    location: { lat: 52.0907, lng: 5.1214 },
  });
  await signIn(page, "sam@shopper.test");
  await page.goto(`/deals/${dealId}`);
  await expect(page.getByTestId("live-stock")).toHaveText(/3 of 3 left/);
  await page.getByRole("button", { name: "Claim" }).click();
  await expect(page.getByTestId("reservation-countdown")).toBeVisible();
  await expect(page.getByTestId("live-stock")).toHaveText(/2 of 3 left/);
  await expect(page.getByTestId("claim-status")).toHaveText(/reservation expired/, {
    timeout: 15_000,
  });
  // The sweep (every second here) gives the unit back; the live count follows the gate.
  await expect(page.getByTestId("live-stock")).toHaveText(/3 of 3 left/, { timeout: 15_000 });
  // My claims reads a reservation's end by the database's clock, sweep or not.
  await page.getByRole("link", { name: "My claims" }).click();
  await expect(page.getByTestId("my-claim").filter({ hasText: "Soup of the day" })).toContainText(
    "expired",
  );
});

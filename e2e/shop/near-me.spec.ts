import { expect, test } from "@playwright/test";
import { signUpInBrowser } from "../fixtures/shopper";

test.use({
  permissions: ["geolocation"],
  // Museumplein: Koffie Kanaal (about 1.4 km) is nearer than Bakkerij de Jong (about 2.1 km).
  geolocation: { latitude: 52.3579, longitude: 4.8812 },
});

test("a new shopper signs up, shares a location, sees nearby deals nearest first, claims one and sees its QR", async ({
  page,
}) => {
  await signUpInBrowser(page, "Mila");

  await expect(page.getByTestId("location-label")).toContainText("your location");
  const cards = page.getByTestId("deal-card");
  await expect(cards).toHaveCount(4);
  const distances = await page.getByTestId("distance").allTextContents();
  const km = distances.map((text) =>
    text.includes(" m ") ? Number.parseFloat(text) / 1_000 : Number.parseFloat(text),
  );
  expect(km).toEqual([...km].sort((a, b) => a - b));
  await expect(cards.first()).toContainText("Koffie Kanaal");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: "e2e/.output/home-phone.png", fullPage: true });

  const croissant = cards.filter({ hasText: "Free croissant" });
  await croissant.getByRole("button", { name: "Claim" }).click();
  await croissant.getByRole("link", { name: "Show my voucher" }).click();
  await expect(page.getByTestId("voucher-qr").locator("svg")).toBeVisible();
  await page.screenshot({ path: "e2e/.output/voucher-phone.png", fullPage: true });
});

test("a picked place far away shows a clear empty state, and a wider distance finds deals again", async ({
  page,
}) => {
  await page.goto("/");
  await page.getByLabel("Pick a place").selectOption("Rotterdam Centraal");
  await expect(page.getByText("No deals within 5 km right now.")).toBeVisible();
  await page.getByLabel("Coordinates").fill("52.3731, 4.8922");
  await page.getByRole("button", { name: "Go" }).click();
  await expect(page.getByTestId("deal-card")).toHaveCount(4);
  await page.getByLabel("Coordinates").fill("not a place");
  await page.getByRole("button", { name: "Go" }).click();
  await expect(
    page.getByRole("status").filter({ hasText: "Type latitude and longitude" }),
  ).toBeVisible();
});

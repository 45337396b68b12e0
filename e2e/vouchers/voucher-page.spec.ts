import { expect, type Page, type PlaywrightWorkerArgs, test } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { verifyVoucher } from "../../lib/vouchers/verify-voucher";
import type { VoucherPublicKey } from "../../lib/vouchers/voucher-format";
import { tokenFromScan } from "../../lib/vouchers/voucher-qr";
import { apiSession, trpc } from "../fixtures/trpc";

const PASSWORD = "dealdrop-demo";

async function signInAndClaimCroissant(page: Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
  const croissant = page.getByTestId("deal-card").filter({ hasText: "Free croissant" });
  await croissant.getByRole("button", { name: "Claim" }).click();
  await expect(croissant.getByRole("status")).toHaveText("You got one!");
  await croissant.getByRole("link", { name: "Show my voucher" }).click();
  await expect(
    page.getByRole("heading", { name: "Free croissant, fresh from the oven" }),
  ).toBeVisible();
}

async function staffSession(
  playwright: PlaywrightWorkerArgs["playwright"],
  baseURL: string,
  email: string,
) {
  return apiSession(playwright, baseURL, { email });
}

test("a shopper claims the demo deal, the voucher page shows it, and its QR scans to the same token that verifies and redeems once", async ({
  page,
  request,
  playwright,
  baseURL,
}) => {
  await signInAndClaimCroissant(page, "lucas@shopper.test");
  const voucher = page.locator("article.voucher");
  await expect(voucher.getByText("Bakkerij de Jong")).toBeVisible();
  await expect(page.getByTestId("voucher-expiry")).toContainText("Valid until");
  const token = await page.getByTestId("voucher-token").inputValue();
  await expect(page.getByTestId("voucher-qr").locator("svg")).toBeVisible();
  await page.screenshot({ path: "e2e/.output/voucher.png", fullPage: true });

  // Decode the QR as rendered, pixel by pixel, as a scanner would.
  const image = PNG.sync.read(await page.getByTestId("voucher-qr").screenshot());
  const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(decoded?.data).toMatch(/^DV1:/);
  expect(decoded?.version).toBeLessThanOrEqual(10);
  expect(tokenFromScan(decoded?.data ?? "")).toBe(token);

  // The published key set verifies it; it is cacheable, open to any origin, and public only.
  const jwks = await request.get("/.well-known/jwks.json");
  expect(jwks.headers()["access-control-allow-origin"]).toBe("*");
  expect(jwks.headers()["cache-control"]).toContain("max-age=300");
  const { keys } = (await jwks.json()) as { keys: VoucherPublicKey[] };
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys)
    expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
  expect(
    await verifyVoucher(token, { keys, now: new Date(), clockSkewSeconds: 120 }),
  ).toMatchObject({ ok: true });

  // Online redemption: another merchant is refused; the right one once; then "already, by whom".
  const koffie = await staffSession(playwright, baseURL as string, "staff@koffie.test");
  expect((await trpc(koffie, "merchant.redeem", { token })).data).toMatchObject({
    accepted: false,
    reason: "WRONG_MERCHANT",
  });
  const bakkerij = await staffSession(playwright, baseURL as string, "staff@bakkerij.test");
  expect((await trpc(bakkerij, "merchant.redeem", { token })).data).toMatchObject({
    accepted: true,
    dealTitle: "Free croissant, fresh from the oven",
  });
  expect((await trpc(bakkerij, "merchant.redeem", { token })).data).toMatchObject({
    accepted: false,
    reason: "ALREADY_REDEEMED",
    firstRedemption: { where: "online by Bram (Bakkerij)" },
  });

  await page.reload();
  await expect(
    page.getByRole("status").filter({ hasText: "This voucher has been redeemed." }),
  ).toBeVisible();
  await expect(page.getByTestId("voucher-qr")).toHaveCount(0);
});

test("a cancelled voucher is revoked: listed for the merchant's devices and refused at the counter", async ({
  page,
  playwright,
  baseURL,
}) => {
  await signInAndClaimCroissant(page, "noor@shopper.test");
  const token = await page.getByTestId("voucher-token").inputValue();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel this voucher" }).click();
  await expect(page.getByRole("status").filter({ hasText: "was cancelled" })).toBeVisible();
  await page.screenshot({ path: "e2e/.output/voucher-cancelled.png", fullPage: true });

  const bakkerij = await staffSession(playwright, baseURL as string, "staff@bakkerij.test");
  const list = await trpc(bakkerij, "merchant.revocations", { after: null }, true);
  expect(list.data.entries.map((r: { reason: string }) => r.reason)).toContain(
    "cancelled by the shopper",
  );
  expect((await trpc(bakkerij, "merchant.redeem", { token })).data).toMatchObject({
    accepted: false,
    reason: "REVOKED",
  });

  await page.goto("/vouchers");
  // Noor's other vouchers (other specs claim with her too) may say other things: this one is
  // her croissant's.
  await expect(
    page
      .getByTestId("my-voucher")
      .filter({ hasText: "Free croissant" })
      .filter({ hasText: "cancelled" }),
  ).toHaveCount(1);
});

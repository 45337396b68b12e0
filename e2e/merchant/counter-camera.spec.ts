import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, expect, test } from "@playwright/test";
import config from "../../playwright.config";
import { watchPolicyViolations } from "../fixtures/policy-violations";
import { apiSession } from "../fixtures/trpc";
import { claimCroissantVoucher, writeQrVideo } from "../fixtures/vouchers";

const OUTPUT = path.resolve(import.meta.dirname, "../.output");
mkdirSync(OUTPUT, { recursive: true });

test("the camera path: Chromium's fake camera shows a voucher QR, the scanner decodes it to an accepted verdict", async ({
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const video = writeQrVideo(voucher.token, path.join(OUTPUT, "voucher-qr.y4m"));
  const staff = await apiSession(playwright, baseURL as string, { email: "staff@bakkerij.test" });

  // The fake camera is chosen at launch, so this test starts a browser of its own.
  const launch = config.use?.launchOptions ?? {};
  const browser = await chromium.launch({
    ...launch,
    args: [
      ...(launch.args ?? []),
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const context = await browser.newContext({ baseURL, storageState: await staff.storageState() });
    await context.grantPermissions(["camera"]);
    const violations = await watchPolicyViolations(context);
    const page = await context.newPage();
    await page.goto("/merchant");
    await page.getByLabel("Device name").fill("Till Camera");
    await page.getByRole("button", { name: "Enrol this device" }).click();
    await expect(page.getByText("Bakkerij de Jong · Till Camera")).toBeVisible();

    await page.getByRole("button", { name: "Scan with camera" }).click();
    const verdict = page.getByTestId("verdict");
    await expect(verdict).toContainText("ACCEPTED", { timeout: 15_000 });
    await expect(verdict).toContainText("Free croissant, fresh from the oven");
    // One verdict per code: the code stays in view, and the verdict stays "accepted".
    await page.waitForTimeout(1_500);
    await expect(verdict).toContainText("ACCEPTED");
    await page.screenshot({ path: path.join(OUTPUT, "counter-camera.png"), fullPage: true });
    await page.getByRole("button", { name: "Stop camera" }).click();
    // The camera runs under the page's Content-Security-Policy and Permissions-Policy.
    expect(violations).toEqual([]);
  } finally {
    await browser.close();
  }
});

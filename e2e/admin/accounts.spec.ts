import { expect, test } from "@playwright/test";
import { signInInBrowser, signUpInBrowser } from "../fixtures/shopper";

test("an admin deactivates a shopper: the shopper's open page is signed out at its next request, sign-in is refused until reactivated", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const name = `Dora${Date.now().toString(36)}`;
  const shopper = await (await browser.newContext()).newPage();
  await signUpInBrowser(shopper, name);

  const admin = await (await browser.newContext()).newPage();
  await signInInBrowser(admin, "admin@dealdrop.test");
  await expect(admin).toHaveURL(/\/admin$/);
  await admin.getByRole("link", { name: "Accounts" }).click();
  await admin.getByLabel("Search by email or name").fill(name);
  const row = admin.getByTestId("account-row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Active");
  const email = (await row.locator(".cell-sub").first().textContent()) ?? "";
  expect(email).toMatch(/@e2e\.test$/);

  admin.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(row).toContainText("Deactivated");

  // The shopper's page, opened before, makes its next request: the session is refused and the
  // page shows them signed out, without a reload.
  await expect(shopper.getByTestId("signed-in-as")).toHaveText(name);
  await shopper.getByRole("link", { name: "My vouchers" }).click();
  await expect(
    shopper.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }),
  ).toBeVisible();
  await expect(shopper.getByTestId("signed-in-as")).toHaveCount(0);

  await signInInBrowser(shopper, email, "a-long-enough-password");
  await expect(shopper.getByText("An admin has deactivated this account.")).toBeVisible({
    timeout: 60_000,
  });

  admin.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: "Reactivate" }).click();
  await expect(row).toContainText("Active");
  await signInInBrowser(shopper, email, "a-long-enough-password");
  await expect(shopper.getByTestId("signed-in-as")).toHaveText(name, { timeout: 60_000 });

  // The audit log names both changes.
  await admin.getByRole("link", { name: "Audit log" }).click();
  await expect(admin.getByText(`${email}: its sessions ended`)).toBeVisible();
  await expect(admin.getByText(`${email} may sign in again`)).toBeVisible();
});

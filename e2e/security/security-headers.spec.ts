import { mkdirSync } from "node:fs";
import path from "node:path";
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  expect,
  type Locator,
  type Page,
  type Response,
  test,
} from "@playwright/test";
import { watchPolicyViolations } from "../fixtures/policy-violations";
import { openDealPage, signInInBrowser } from "../fixtures/shopper";
import { apiSession, trpc } from "../fixtures/trpc";
import { claimCroissantVoucher, writeQrImage } from "../fixtures/vouchers";

const OUTPUT = path.resolve(import.meta.dirname, "../.output");
mkdirSync(OUTPUT, { recursive: true });

const CROISSANT = "Free croissant, fresh from the oven";

/**
 * A page's own headers: a policy whose scripts need this answer's nonce and that no site
 * may frame, no sniffing, the address kept on the site, and the camera in the counter app only.
 */
function expectPageHeaders(response: Response | null, pathname: string) {
  const headers = response?.headers() ?? {};
  const policy = headers["content-security-policy"] ?? "";
  expect(policy, pathname).toMatch(/(^|; )script-src [^;]*'nonce-[A-Za-z0-9+/]{20,}={0,2}'/);
  expect(policy, pathname).not.toMatch(/script-src [^;]*'unsafe-inline'/);
  expect(policy, pathname).toMatch(/(^|; )frame-ancestors 'none'($|;)/);
  expect(headers["x-content-type-options"], pathname).toBe("nosniff");
  expect(headers["referrer-policy"], pathname).toBe("same-origin");
  const camera = pathname.startsWith("/merchant") ? "camera=(self)" : "camera=()";
  expect(headers["permissions-policy"], pathname).toContain(camera);
}

/** Whether this document may use the camera: the Permissions-Policy as the browser applies it. */
function cameraAllowed(page: Page) {
  return page.evaluate(() =>
    (
      document as Document & { featurePolicy?: { allowsFeature(name: string): boolean } }
    ).featurePolicy?.allowsFeature("camera"),
  );
}

/** What each watched context's pages reported, so a page that does not work can say why. */
const violationsOf = new WeakMap<BrowserContext, string[]>();

/** Opens `pathname` with a page load, checks its headers, and waits for what shows it works. */
async function openPage(page: Page, pathname: string, shown: (page: Page) => Locator) {
  const response = await page.goto(pathname);
  expectPageHeaders(response, pathname);
  const reported = violationsOf.get(page.context()) ?? [];
  await expect(
    shown(page),
    `${pathname} (violations: ${reported.join(" | ") || "none"})`,
  ).toBeVisible();
}

async function croissantId(request: APIRequestContext) {
  const deals = await trpc(request, "deals.list", undefined, true);
  return deals.data.find((d: { title: string }) => d.title === CROISSANT).id as string;
}

async function watchedPage(browser: Browser, options?: BrowserContextOptions) {
  const context = await browser.newContext(options);
  const violations = await watchPolicyViolations(context);
  violationsOf.set(context, violations);
  return { context, page: await context.newPage(), violations };
}

test("the storefront's pages, signed out and as a shopper with a voucher, break no policy", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const shopper = await apiSession(playwright, baseURL as string, "new shopper");
  const { context, page, violations } = await watchedPage(browser, {
    storageState: await shopper.storageState(),
  });

  await openPage(page, "/", (p) => p.getByTestId("deal-card").first());
  expect(await cameraAllowed(page)).toBe(false);
  // The deal page's live stock is an EventSource on the same origin.
  await openDealPage(page, "Free croissant");
  await openPage(page, page.url().replace(baseURL as string, ""), (p) =>
    p.getByTestId("live-stock"),
  );

  await page.goto("/");
  const croissant = page.getByTestId("deal-card").filter({ hasText: "Free croissant" });
  await croissant.getByRole("button", { name: "Claim" }).click();
  await croissant.getByRole("link", { name: "Show my voucher" }).click();
  await expect(page.getByTestId("voucher-qr").locator("svg")).toBeVisible();
  await openPage(page, new URL(page.url()).pathname, (p) =>
    p.getByTestId("voucher-qr").locator("svg"),
  );
  await openPage(page, "/vouchers", (p) => p.getByTestId("my-voucher"));
  await openPage(page, "/claims", (p) => p.getByRole("heading", { name: "My claims" }));

  const signedOut = await watchedPage(browser);
  await openPage(signedOut.page, "/sign-in", (p) =>
    p.getByRole("button", { name: "Sign in", exact: true }),
  );
  const missing = await signedOut.page.goto("/no-such-page");
  expect(missing?.status()).toBe(404);
  expectPageHeaders(missing, "/no-such-page");
  await expect(signedOut.page.getByRole("heading", { name: "Page not found" })).toBeVisible();

  expect([...violations, ...signedOut.violations]).toEqual([]);
  await Promise.all([context.close(), signedOut.context.close()]);
});

test("the counter app's pages break no policy, and only they may use the camera, even after signing in", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const image = await writeQrImage(voucher.token, path.join(OUTPUT, "policy-voucher-qr.png"));
  const { context, page, violations } = await watchedPage(browser);

  // Signed in on a storefront page; the counter app then opens with a page load of its own.
  await signInInBrowser(page, "staff@bakkerij.test");
  await expect(page).toHaveURL(/\/merchant$/);
  expect(await cameraAllowed(page)).toBe(true);
  await page.getByLabel("Device name").fill("Till Policy");
  await page.getByRole("button", { name: "Enrol this device" }).click();
  await expect(page.getByText("Bakkerij de Jong · Till Policy")).toBeVisible();
  // The first refresh reads every unexpired revocation of the shop (pages of them once the
  // counter-trust spec's 10,000-voucher cancellation has run): scan once it has the keys.
  await expect(page.getByTestId("trust-age")).toContainText("updated just now", {
    timeout: 30_000,
  });
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // A photo scan draws the picture from a blob: URL.
  await page.getByTestId("scan-photo").setInputFiles(image);
  await expect(page.getByTestId("verdict")).toContainText("ACCEPTED", { timeout: 15_000 });

  await openPage(page, "/merchant", (p) => p.getByText("Bakkerij de Jong · Till Policy"));
  expect(await cameraAllowed(page)).toBe(true);
  await openPage(page, "/merchant/deals", (p) => p.getByRole("heading", { name: "Your deals" }));
  await openPage(page, `/merchant/deals/${await croissantId(context.request)}`, (p) =>
    p.getByRole("heading", { name: CROISSANT }),
  );
  await openPage(page, "/merchant/deals/new", (p) => p.getByRole("heading", { name: "New deal" }));
  await openPage(page, "/merchant/devices", (p) =>
    p.getByRole("heading", { name: "Counter devices" }),
  );
  expect(await cameraAllowed(page)).toBe(true);
  // The storefront's pages keep the camera off for the same person.
  await openPage(page, "/", (p) => p.getByTestId("deal-card").first());
  expect(await cameraAllowed(page)).toBe(false);

  expect(violations).toEqual([]);
  await context.close();
});

test("every admin page and a staff invitation break no policy", async ({ browser }) => {
  const { context, page, violations } = await watchedPage(browser);
  await signInInBrowser(page, "admin@dealdrop.test");
  await expect(page).toHaveURL(/\/admin$/);
  expect(await cameraAllowed(page)).toBe(false);

  await openPage(page, "/admin", (p) => p.getByRole("heading", { name: "Sales" }));
  await openPage(page, "/admin/deals/new", (p) => p.getByRole("heading", { name: "New deal" }));
  await openPage(page, `/admin/deals/${await croissantId(context.request)}`, (p) =>
    p.getByTestId("monitor-sold"),
  );
  await openPage(page, "/admin/devices", (p) =>
    p.getByRole("heading", { name: "Counter devices" }),
  );
  await openPage(page, "/admin/keys", (p) =>
    p.getByRole("heading", { name: "Voucher signing keys" }),
  );
  await openPage(page, "/admin/redemptions", (p) =>
    p.getByRole("heading", { name: "Redemptions", exact: true }),
  );
  await openPage(page, "/admin/audit", (p) => p.getByRole("heading", { name: "Audit log" }));
  await openPage(page, "/admin/merchants", (p) =>
    p.getByRole("heading", { name: "Merchants", exact: true }),
  );
  await page.getByRole("link", { name: "Bakkerij de Jong" }).click();
  await expect(page.getByRole("heading", { name: "Bakkerij de Jong" })).toBeVisible();
  await openPage(page, new URL(page.url()).pathname, (p) =>
    p.getByRole("heading", { name: "Bakkerij de Jong" }),
  );

  const invite = page.getByRole("region", { name: "Invite staff" });
  await invite.getByLabel("Name").fill("Pim");
  await invite.getByLabel("Email").fill(`pim-${Date.now().toString(36)}@bakkerij.test`);
  await invite.getByRole("button", { name: "Create invitation link" }).click();
  const inviteUrl = await page.getByTestId("invite-link").getByRole("textbox").inputValue();
  const invited = await watchedPage(browser);
  await openPage(invited.page, new URL(inviteUrl).pathname, (p) =>
    p.getByRole("button", { name: "Join Bakkerij de Jong" }),
  );

  expect([...violations, ...invited.violations]).toEqual([]);
  await Promise.all([context.close(), invited.context.close()]);
});

test("JSON answers, the claim route and live stock are sent with nosniff and a policy that runs and frames nothing", async ({
  request,
  baseURL,
}) => {
  const answers = [
    await request.get("/api/trpc/deals.list"),
    await request.get("/api/trpc/no.such.procedure"),
    await request.post("/api/claim", { data: "{}", headers: { "content-type": "text/plain" } }),
    await request.get("/api/deals/nonexistent0/stock"),
  ].map((answer) => ({ url: answer.url(), headers: new Headers(answer.headers()) }));
  // A live stream never ends: its headers are read and the stream dropped.
  const streaming = new AbortController();
  const stream = await fetch(`${baseURL}/api/deals/${await croissantId(request)}/stock`, {
    signal: streaming.signal,
  });
  expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
  answers.push({ url: stream.url, headers: stream.headers });
  streaming.abort();

  for (const { url, headers } of answers) {
    expect(headers.get("x-content-type-options"), url).toBe("nosniff");
    expect(headers.get("content-security-policy"), url).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
  }
});

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { build } from "esbuild";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { signVoucher } from "../../lib/vouchers/sign-voucher";
import { apiSession } from "../fixtures/trpc";
import { claimCroissantVoucher, writeQrImage } from "../fixtures/vouchers";

const OUTPUT = path.resolve(import.meta.dirname, "../.output");
const RESULTS = path.resolve(import.meta.dirname, "../../bench/results");
mkdirSync(RESULTS, { recursive: true });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * Measures, does not judge: timings on this shared machine are reported, never asserted.
 * Writes bench/results/counter-speed.json and prints a line per figure.
 */
test("measures voucher verification in Chromium and scan-to-verdict from an image", async ({
  page,
  playwright,
  baseURL,
}) => {
  // 1,000 distinct vouchers, verified one after another by the shared verifier in the page.
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const issuedAt = Math.floor(Date.now() / 1_000);
  const tokens = await Promise.all(
    Array.from({ length: 1_000 }, (_, i) =>
      signVoucher(
        {
          jti: `V${String(i).padStart(11, "0")}`,
          d: "DealXXXXXXXX",
          m: "MerchantAAAA",
          sub: "pairwiseSub1",
          iat: issuedAt,
          nbf: issuedAt,
          exp: issuedAt + 86_400,
        },
        { kid, privateKey: pair.privateKey },
      ),
    ),
  );
  const bundle = await build({
    stdin: {
      contents: `export { verifyVoucher } from "./lib/vouchers/verify-voucher";`,
      resolveDir: path.resolve(import.meta.dirname, "../.."),
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    globalName: "dealdropVerifier",
    platform: "browser",
    write: false,
  });
  await page.goto("/sign-in");
  await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "" });
  const verifyMs = await page.evaluate(
    async ({ tokens, keys }) => {
      const { verifyVoucher } = (
        window as unknown as {
          dealdropVerifier: {
            verifyVoucher: typeof import("../../lib/vouchers/verify-voucher").verifyVoucher;
          };
        }
      ).dealdropVerifier;
      const times: number[] = [];
      for (const token of tokens) {
        const start = performance.now();
        const verdict = await verifyVoucher(token, {
          keys,
          now: new Date(),
          clockSkewSeconds: 120,
        });
        times.push(performance.now() - start);
        if (!verdict.ok) throw new Error(verdict.reason);
      }
      return times;
    },
    { tokens, keys: [{ ...jwk, kid }] },
  );
  const sortedVerify = [...verifyMs].sort((a, b) => a - b);

  // Scan to verdict: from the photo being chosen to the verdict on screen, measured in the page.
  const voucher = await claimCroissantVoucher(playwright, baseURL as string);
  const image = await writeQrImage(voucher.token, path.join(OUTPUT, "voucher-speed.png"));
  const staff = await apiSession(playwright, baseURL as string, { email: "staff@bakkerij.test" });
  const context = await page
    .context()
    .browser()
    ?.newContext({ baseURL, storageState: await staff.storageState() });
  if (!context) throw new Error("no browser");
  const counter = await context.newPage();
  await counter.goto("/merchant");
  await counter.getByLabel("Device name").fill("Till Speed");
  await counter.getByRole("button", { name: "Enrol this device" }).click();
  await expect(counter.getByText("Till Speed")).toBeVisible();
  await counter.evaluate(() => {
    const w = window as unknown as { picked: number[]; shown: number[] };
    w.picked = [];
    w.shown = [];
    document.addEventListener("change", () => w.picked.push(performance.now()), true);
    new MutationObserver(() => {
      const at = document.querySelector("[data-testid=verdict]")?.getAttribute("data-checked-at");
      if (at && at !== (w as unknown as { last?: string }).last) {
        (w as unknown as { last?: string }).last = at;
        w.shown.push(performance.now());
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  const scans = 20;
  for (let i = 1; i <= scans; i++) {
    await counter.getByTestId("scan-photo").setInputFiles(image);
    await counter.waitForFunction(
      (n) => (window as unknown as { shown: number[] }).shown.length >= n,
      i,
    );
  }
  const scanMs = await counter.evaluate(() => {
    const w = window as unknown as { picked: number[]; shown: number[] };
    return w.shown.map((shown, i) => shown - (w.picked[i] ?? shown));
  });
  await context.close();
  const sortedScan = [...scanMs].sort((a, b) => a - b);

  const result = {
    measuredAt: new Date().toISOString(),
    verifyInChromium: {
      tokens: verifyMs.length,
      p50Ms: percentile(sortedVerify, 50),
      p99Ms: percentile(sortedVerify, 99),
    },
    scanToVerdictFromImage: {
      scans: scanMs.length,
      p50Ms: percentile(sortedScan, 50),
      p99Ms: percentile(sortedScan, 99),
      firstMs: scanMs[0],
    },
  };
  writeFileSync(path.join(RESULTS, "counter-speed.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `verify in Chromium: p50 ${result.verifyInChromium.p50Ms.toFixed(2)} ms, p99 ${result.verifyInChromium.p99Ms.toFixed(2)} ms over 1,000 tokens; ` +
      `scan to verdict from an image: p50 ${result.scanToVerdictFromImage.p50Ms.toFixed(0)} ms, p99 ${result.scanToVerdictFromImage.p99Ms.toFixed(0)} ms over ${scans} scans (first ${scanMs[0]?.toFixed(0)} ms)`,
  );
  expect(scanMs).toHaveLength(scans);
});

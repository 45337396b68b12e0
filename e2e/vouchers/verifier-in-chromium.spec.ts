import path from "node:path";
import { expect, test } from "@playwright/test";
import { build } from "esbuild";
import {
  buildVoucherVectors,
  runVoucherVectors,
  type VectorOutcome,
} from "../../testing/vouchers/adversarial-vectors";

/** The verifier module as a browser gets it: bundled for the browser, with jose's WebCrypto build. */
async function bundleVectorRunner(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `export { runVoucherVectors } from "./testing/vouchers/adversarial-vectors";`,
      resolveDir: path.resolve(import.meta.dirname, "../.."),
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    globalName: "dealdropVectors",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  return result.outputFiles[0]?.text ?? "";
}

test("the same verifier gives every adversarial vector the same verdict in Chromium as in Node", async ({
  page,
}) => {
  const suite = await buildVoucherVectors();
  const inNode = (await runVoucherVectors(suite)).map(({ name, expected, actual }) => ({
    name,
    expected,
    actual,
  }));

  // A page on the app's origin: loopback is a secure context, so WebCrypto is there.
  await page.goto("/sign-in");
  await page.addScriptTag({ content: await bundleVectorRunner() });
  const inChromium = await page.evaluate(async (vectors) => {
    const runner = (
      window as unknown as {
        dealdropVectors: { runVoucherVectors: (s: typeof vectors) => Promise<VectorOutcome[]> };
      }
    ).dealdropVectors;
    const outcomes = await runner.runVoucherVectors(vectors);
    return outcomes.map(({ name, expected, actual }) => ({ name, expected, actual }));
  }, suite);

  expect(inChromium.filter((o) => o.actual !== o.expected)).toEqual([]);
  expect(inChromium).toEqual(inNode);
  expect(inChromium.length).toBeGreaterThanOrEqual(20);
});

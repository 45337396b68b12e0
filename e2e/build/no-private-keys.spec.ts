import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";

const BUILD = path.resolve(import.meta.dirname, "../../.next");

/** What private key material, or the code that unseals it, would look like in a file. */
const PRIVATE_MATERIAL: [string, RegExp][] = [
  // A header with a body after it: jose's own source names the header to check for it.
  ["a PEM private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----(\s|\\n)*[A-Za-z0-9+/]{40}/],
  ["a JWK's private member", /["']?d["']?\s*:\s*["'][A-Za-z0-9_-]{43}["']/],
];
/** Server-only code that must never reach a browser bundle. */
const SERVER_ONLY_MARKERS = [
  "private_jwk_encrypted",
  "privateJwkEncrypted",
  "VOUCHER_KEY_SECRET",
  "voucher signing keys v1",
];

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const full = path.join(folder, name);
    if (statSync(full).isDirectory()) return name === "cache" ? [] : filesUnder(full);
    return /\.(js|mjs|cjs|json|html|rsc|txt|map)$/.test(name) ? [full] : [];
  });
}

test("the detector itself finds a planted private JWK and PEM", () => {
  // Assembled here so that this file itself never holds anything shaped like a key.
  const pemHeader = ["-----BEGIN", "PRIVATE", "KEY-----"].join(" ");
  const jwkMember = ['"d"', `"${"x".repeat(43)}"`].join(":");
  const planted = `{"kty":"EC","crv":"P-256",${jwkMember}} ${pemHeader}\n${"M".repeat(64)}`;
  for (const [, pattern] of PRIVATE_MATERIAL) expect(planted).toMatch(pattern);
});

test("the production build holds no private key material, and browser bundles no key-handling code", () => {
  const all = filesUnder(BUILD);
  const browser = all.filter((file) => file.includes(`${path.sep}static${path.sep}`));
  expect(browser.length).toBeGreaterThan(10);
  const findings: string[] = [];
  for (const file of all) {
    const text = readFileSync(file, "utf8");
    for (const [what, pattern] of PRIVATE_MATERIAL) {
      if (pattern.test(text)) findings.push(`${what} in ${path.relative(BUILD, file)}`);
    }
  }
  for (const file of browser) {
    const text = readFileSync(file, "utf8");
    for (const marker of SERVER_ONLY_MARKERS) {
      if (text.includes(marker)) findings.push(`"${marker}" in ${path.relative(BUILD, file)}`);
    }
  }
  expect(findings).toEqual([]);
});

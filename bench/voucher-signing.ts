/**
 * What signing a voucher costs, in CPU time (user + system, every thread: WebCrypto signs on
 * libuv's pool), so that it reads the same on a busy machine: jose's CompactSign over
 * WebCrypto (lib/vouchers/sign-voucher.ts) against node:crypto with a KeyObject
 * (server/vouchers/voucher-signer.ts), in batches of 500 as a sale's winners arrive.
 * Run: `npx tsx --conditions=react-server bench/voucher-signing.ts`. Knobs: BENCH_SIGNS (10,000).
 */
import { createPrivateKey, type JsonWebKey } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { signVoucher } from "@/lib/vouchers/sign-voucher";
import type { VoucherPayload } from "@/lib/vouchers/voucher-format";
import { encodedVoucherHeader, signVoucherToken } from "@/server/vouchers/voucher-signer";
import { SAMPLE_VOUCHER_PAYLOAD } from "@/testing/vouchers/sample-payload";
import { positiveInt } from "./report";

const signs = positiveInt("BENCH_SIGNS", 10_000);
const BATCH = 500;
const pair = await generateKeyPair("ES256", { extractable: true });
const kid = await calculateJwkThumbprint(await exportJWK(pair.publicKey));
const keyObject = createPrivateKey({
  key: (await exportJWK(pair.privateKey)) as JsonWebKey,
  format: "jwk",
});
const key = {
  kid,
  privateKey: pair.privateKey,
  keyObject,
  encodedHeader: encodedVoucherHeader(kid),
};
const payload = (i: number): VoucherPayload => ({
  ...SAMPLE_VOUCHER_PAYLOAD,
  jti: `V${String(i).padStart(11, "0")}`,
});

async function cpuPerSign(sign: (i: number) => Promise<unknown> | unknown) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let at = 0; at < signs; at += BATCH) {
    await Promise.all(Array.from({ length: BATCH }, (_, i) => sign(at + i)));
  }
  const used = process.cpuUsage(cpu);
  return {
    cpuUs: (used.user + used.system) / signs,
    wallUs: ((performance.now() - started) * 1_000) / signs,
  };
}

const designs = {
  "jose CompactSign (WebCrypto)": (i: number) => signVoucher(payload(i), key),
  "node:crypto sign (KeyObject)": (i: number) => signVoucherToken(payload(i), key),
};
const results: Record<string, { cpuUs: number[]; wallUs: number[] }> = {};
for (let round = 0; round < 3; round++) {
  for (const [name, sign] of Object.entries(designs)) {
    const measured = await cpuPerSign(sign);
    results[name] ??= { cpuUs: [], wallUs: [] };
    results[name].cpuUs.push(measured.cpuUs);
    results[name].wallUs.push(measured.wallUs);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[1] ?? Number.NaN;
console.log(`${signs.toLocaleString()} ES256 vouchers per round, batches of ${BATCH}, median of 3`);
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(30)} ${median(r.cpuUs).toFixed(1).padStart(6)} µs CPU per voucher, ${median(r.wallUs).toFixed(1).padStart(6)} µs wall`,
  );
}

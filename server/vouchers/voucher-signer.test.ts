import { createPrivateKey, type JsonWebKey } from "node:crypto";
import { calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { signVoucher } from "@/lib/vouchers/sign-voucher";
import { verifyVoucher } from "@/lib/vouchers/verify-voucher";
import { SAMPLE_VOUCHER_PAYLOAD } from "@/testing/vouchers/sample-payload";
import { encodedVoucherHeader, signVoucherToken } from "./voucher-signer";

async function keyPair() {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const keyObject = createPrivateKey({
    key: (await exportJWK(pair.privateKey)) as JsonWebKey,
    format: "jwk",
  });
  return {
    pair,
    keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }],
    key: { kid, privateKey: pair.privateKey, keyObject, encodedHeader: encodedVoucherHeader(kid) },
  };
}

const payload = SAMPLE_VOUCHER_PAYLOAD;

describe("signVoucherToken (node:crypto)", () => {
  it("writes the header and payload jose writes, byte for byte; only the signature differs", async () => {
    const { key } = await keyPair();
    const ours = signVoucherToken(payload, key).split(".");
    const jose = (await signVoucher(payload, key)).split(".");
    expect(ours.slice(0, 2)).toEqual(jose.slice(0, 2));
    // ES256 in JWS is r || s, 64 bytes: 86 base64url characters, never DER.
    expect(ours[2]).toHaveLength(86);
    expect(Buffer.from(ours[2] ?? "", "base64url")).toHaveLength(64);
  });

  it("makes a voucher the counter's verifier accepts, and jose's compactVerify too", async () => {
    const { pair, keys, key } = await keyPair();
    const token = signVoucherToken(payload, key);
    const verdict = await verifyVoucher(token, {
      keys,
      now: new Date(payload.iat * 1_000),
      clockSkewSeconds: 0,
      merchantId: payload.m,
    });
    expect(verdict).toMatchObject({ ok: true, voucher: { id: payload.jti, kid: key.kid } });
    const verified = await compactVerify(token, pair.publicKey, { algorithms: ["ES256"] });
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(payload);
  });

  it("signs with its own key only: another key's set refuses it, an altered payload fails", async () => {
    const { keys, key } = await keyPair();
    const other = await keyPair();
    const token = signVoucherToken(payload, key);
    const options = { now: new Date(payload.iat * 1_000), clockSkewSeconds: 0 };
    // Same kid, another key: the signature must not verify.
    const impostor = [{ ...other.keys[0], kid: key.kid }];
    expect(await verifyVoucher(token, { ...options, keys: impostor })).toMatchObject({
      ok: false,
      reason: "BAD_SIGNATURE",
    });
    expect(await verifyVoucher(token, { ...options, keys })).toMatchObject({ ok: true });
    const [header, , signature] = token.split(".");
    const altered = Buffer.from(JSON.stringify({ ...payload, d: "DealYYYYYYYY" })).toString(
      "base64url",
    );
    expect(
      await verifyVoucher(`${header}.${altered}.${signature}`, { ...options, keys }),
    ).toMatchObject({ ok: false, reason: "BAD_SIGNATURE" });
  });
});

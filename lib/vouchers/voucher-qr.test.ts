import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import QRCode from "qrcode";
import { describe, expect, it } from "vitest";
import { SAMPLE_VOUCHER_PAYLOAD } from "@/testing/vouchers/sample-payload";
import { signVoucher } from "./sign-voucher";
import { verifyVoucher } from "./verify-voucher";
import { tokenFromScan, VOUCHER_QR_PREFIX, voucherQrText } from "./voucher-qr";

async function issuer() {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { key: { kid, privateKey: pair.privateKey }, keys: [{ ...jwk, kid }] };
}

const payload = SAMPLE_VOUCHER_PAYLOAD;

describe("voucher QR packing", () => {
  it("rebuilds the exact token, which still verifies", async () => {
    const { key, keys } = await issuer();
    const token = await signVoucher(payload, key);
    const text = voucherQrText(token);
    expect(text.startsWith(VOUCHER_QR_PREFIX)).toBe(true);
    expect(text).toMatch(/^DV1:[A-Z2-7]+$/);
    expect(tokenFromScan(text)).toBe(token);
    expect(tokenFromScan(`  ${text.toLowerCase()}\n`)).toBe(token);
    const verdict = await verifyVoucher(tokenFromScan(text), {
      keys,
      now: new Date(payload.iat * 1_000),
      clockSkewSeconds: 0,
    });
    expect(verdict.ok).toBe(true);
  });

  it("fits QR version 10 at error correction M, where the bare token needs 15", async () => {
    const { key } = await issuer();
    const token = await signVoucher(payload, key);
    const packed = QRCode.create(voucherQrText(token), { errorCorrectionLevel: "M" }).version;
    const bare = QRCode.create(token, { errorCorrectionLevel: "M" }).version;
    console.log(
      `voucher token ${token.length} chars: QR version ${bare} at M; packed ${voucherQrText(token).length} chars: version ${packed}`,
    );
    expect(packed).toBeLessThanOrEqual(10);
  });

  it("a changed bit in the packed text gives a token whose signature fails", async () => {
    const { key, keys } = await issuer();
    const text = voucherQrText(await signVoucher(payload, key));
    // Inside the deal id: the rebuilt payload names another deal.
    const at = VOUCHER_QR_PREFIX.length + 70;
    const flipped = text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    const verdict = await verifyVoucher(tokenFromScan(flipped), {
      keys,
      now: new Date(payload.iat * 1_000),
      clockSkewSeconds: 0,
    });
    expect(verdict).toMatchObject({ ok: false });
    expect(["BAD_SIGNATURE", "MALFORMED"]).toContain(verdict.ok ? "" : verdict.reason);
  });

  it("passes anything else on as typed, for the verifier to refuse", async () => {
    expect(tokenFromScan("DV1:not base32!")).toBe("DV1:not base32!");
    expect(tokenFromScan("DV1:ABC")).toBe("DV1:ABC");
    expect(tokenFromScan(" eyJhbGciOi.x.y ")).toBe("eyJhbGciOi.x.y");
    const verdict = await verifyVoucher(tokenFromScan("DV1:ABC"), {
      keys: [],
      now: new Date(),
      clockSkewSeconds: 0,
    });
    expect(verdict).toMatchObject({ ok: false, reason: "MALFORMED" });
  });

  it("refuses to pack a token not in the issuer's exact form", async () => {
    const { key } = await issuer();
    const spaced = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload, null, 1)))
      .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "dv1" })
      .sign(key.privateKey);
    expect(() => voucherQrText(spaced)).toThrow(/not in the form/);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import {
  buildVoucherVectors,
  runVoucherVectors,
  type VectorOutcome,
} from "@/testing/vouchers/adversarial-vectors";

describe("verifyVoucher against the adversarial vectors (Node)", () => {
  let outcomes: VectorOutcome[];
  beforeAll(async () => {
    outcomes = await runVoucherVectors(await buildVoucherVectors());
  });

  it("gives every vector its expected verdict", () => {
    const wrong = outcomes.filter((o) => o.actual !== o.expected);
    expect(wrong.map(({ name, expected, actual }) => ({ name, expected, actual }))).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(20);
  });

  it("covers every rejection reason", () => {
    const reasons = new Set(outcomes.map((o) => o.expected));
    for (const reason of [
      "MALFORMED",
      "UNSUPPORTED_ALG",
      "UNKNOWN_KEY",
      "BAD_SIGNATURE",
      "NOT_YET_VALID",
      "EXPIRED",
      "WRONG_MERCHANT",
      "REVOKED",
      "ALREADY_REDEEMED",
      "VALID",
    ]) {
      expect(reasons, reason).toContain(reason);
    }
  });

  it("returns the voucher's contents with a valid verdict, and the first redemption with a repeat", () => {
    const valid = outcomes.find((o) => o.name === "a valid voucher")?.result;
    expect(valid).toMatchObject({
      ok: true,
      voucher: { id: "Voucher00001", dealId: "DealXXXXXXXX", merchantId: "MerchantAAAA" },
    });
    const repeat = outcomes.find((o) => o.name === "already redeemed")?.result;
    expect(repeat).toMatchObject({
      ok: false,
      firstRedemption: { where: "Till 1" },
      voucher: { id: "Voucher00005" },
    });
  });

  it("reveals nothing of an unverified payload", () => {
    for (const o of outcomes) {
      if (["MALFORMED", "UNSUPPORTED_ALG", "UNKNOWN_KEY", "BAD_SIGNATURE"].includes(o.actual)) {
        expect(o.result, o.name).not.toHaveProperty("voucher");
      }
    }
  });
});

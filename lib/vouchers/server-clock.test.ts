import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type CounterLookups, type CounterTrust, judgeAtCounter } from "./counter-judgement";
import { clockError, describeClockError, readServerClock, trustAge } from "./server-clock";
import { signVoucher } from "./sign-voucher";

const HOUR = 3_600_000;
const SKEW_S = 120;
/** The server's time in these tests; the till's clock runs two hours behind it. */
const SERVER_NOW = Date.UTC(2026, 10, 22, 15, 0, 0);
const TILL_BEHIND = 2 * HOUR;
const seconds = (ms: number) => Math.floor(ms / 1_000);

const nothingKnown: CounterLookups = {
  isRevoked: async () => false,
  firstRedemption: async () => null,
};

let keys: CounterTrust["keys"];
let sign: (issuedAtMs: number, expiresAtMs: number) => Promise<string>;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  keys = [{ ...jwk, kid, alg: "ES256" }];
  sign = (issuedAtMs, expiresAtMs) =>
    signVoucher(
      {
        jti: "Voucher00001",
        d: "DealXXXXXXXX",
        m: "MerchantAAAA",
        sub: "pairwiseSub1",
        iat: seconds(issuedAtMs),
        nbf: seconds(issuedAtMs),
        exp: seconds(expiresAtMs),
      },
      { kid, privateKey: pair.privateKey },
    );
});

/** A till two hours behind that refreshed a minute ago: request out, answer back 200 ms later. */
function tillTrust(): CounterTrust {
  const sentAt = SERVER_NOW - TILL_BEHIND - 60_000;
  return {
    keys,
    deals: { DealXXXXXXXX: "Free croissant" },
    clockSkewSeconds: SKEW_S,
    maxTrustAgeMs: 24 * HOUR,
    ...readServerClock(new Date(sentAt + TILL_BEHIND + 100), sentAt, sentAt + 200),
  };
}

describe("the device's offset to the server's clock", () => {
  it("is measured at a refresh, taking the server's reading as midway through the request", () => {
    const reading = readServerClock(new Date(10_000 + TILL_BEHIND), 9_900, 10_100);
    expect(reading).toEqual({ clockOffsetMs: TILL_BEHIND, refreshedAt: 10_100 });
  });

  it("refuses, by the server's time, a voucher that expired an hour ago on a till two hours behind", async () => {
    // Issued three hours ago, expired one hour ago: by the till's own clock it is still valid.
    const token = await sign(SERVER_NOW - 3 * HOUR, SERVER_NOW - HOUR);
    const verdict = await judgeAtCounter(token, {
      trust: tillTrust(),
      merchantId: "MerchantAAAA",
      deviceNow: SERVER_NOW - TILL_BEHIND,
      lookups: nothingKnown,
    });
    expect(verdict).toMatchObject({ accepted: false, reason: "EXPIRED" });
  });

  it("accepts a valid voucher on that till and dates the redemption by the server's clock", async () => {
    const token = await sign(SERVER_NOW - HOUR, SERVER_NOW + HOUR);
    const verdict = await judgeAtCounter(token, {
      trust: tillTrust(),
      merchantId: "MerchantAAAA",
      deviceNow: SERVER_NOW - TILL_BEHIND,
      lookups: nothingKnown,
    });
    expect(verdict).toMatchObject({ accepted: true, dealTitle: "Free croissant" });
    const judgedAt = verdict.accepted ? verdict.judgedAt.getTime() : 0;
    expect(Math.abs(judgedAt - SERVER_NOW)).toBeLessThanOrEqual(1_000);
  });

  it("warns when the offset is beyond the skew allowance, and not within it", () => {
    const trust = tillTrust();
    expect(clockError(trust)).toBe(TILL_BEHIND);
    expect(describeClockError(TILL_BEHIND)).toBe("2 h 0 min behind");
    expect(describeClockError(-5 * 60_000)).toBe("5 min ahead");
    expect(clockError({ ...trust, clockOffsetMs: SKEW_S * 1_000 })).toBeNull();
    expect(clockError({ ...trust, clockOffsetMs: -SKEW_S * 1_000 - 1 })).toBe(-SKEW_S * 1_000 - 1);
  });
});

describe("trust age", () => {
  it("grows with the device clock from the completed refresh and stops offline checks past the limit", () => {
    const trust = tillTrust();
    expect(trustAge(trust, trust.refreshedAt + HOUR)).toEqual({ usable: true, ageMs: HOUR });
    expect(trustAge(trust, trust.refreshedAt + 25 * HOUR)).toEqual({
      usable: false,
      ageMs: 25 * HOUR,
      why: "stale",
    });
    expect(trustAge(undefined, 0)).toMatchObject({ usable: false, why: "never" });
  });

  it("is unknown once the device clock is set back past the refresh: offline checks stop", async () => {
    const trust = tillTrust();
    // Set back three days after refreshing: by its own clock the till would never go stale.
    const setBack = trust.refreshedAt + HOUR - 72 * HOUR;
    expect(trustAge(trust, setBack)).toEqual({ usable: false, ageMs: 0, why: "clock-set-back" });
    // A clock that steps back within the skew (an NTP correction) changes nothing.
    expect(trustAge(trust, trust.refreshedAt - SKEW_S * 1_000)).toEqual({ usable: true, ageMs: 0 });

    const token = await sign(SERVER_NOW - HOUR, SERVER_NOW + HOUR);
    const verdict = await judgeAtCounter(token, {
      trust,
      merchantId: "MerchantAAAA",
      deviceNow: setBack,
      lookups: nothingKnown,
    });
    expect(verdict).toMatchObject({ accepted: false, reason: "CLOCK_SET_BACK" });
  });
});

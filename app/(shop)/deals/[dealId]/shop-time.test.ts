import { describe, expect, it } from "vitest";
import { countdownText, formatPickup } from "./shop-time";

describe("deal page times", () => {
  it("says a pickup window in the shop's time zone, whatever the reader's", () => {
    const from = new Date("2026-12-04T16:00:00Z");
    const until = new Date("2026-12-04T18:00:00Z");
    const amsterdam = formatPickup(from, until, "Europe/Amsterdam", "en-GB");
    expect(amsterdam).toMatch(/17:00/);
    expect(amsterdam).toMatch(/19:00 \(Europe\/Amsterdam\)$/);
    expect(formatPickup(from, until, "America/New_York", "en-GB")).toMatch(
      /11:00.*13:00 \(America\/New York\)$/,
    );
  });

  it("counts down in days, hours or minutes, and never below zero", () => {
    expect(countdownText(65_000)).toBe("1:05");
    expect(countdownText(3_723_000)).toBe("1:02:03");
    expect(countdownText(2 * 86_400_000 + 3 * 3_600_000)).toBe("2 d 3 h");
    expect(countdownText(-5_000)).toBe("0:00");
  });
});

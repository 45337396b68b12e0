import { describe, expect, it } from "vitest";
import { decodeGateReply } from "./gate-reply";

// The replies below are claim.lua's return statements, as ioredis hands them over (Lua
// numbers arrive as integers, strings as strings).
describe("decodeGateReply", () => {
  it("names a new win's last slot the units left", () => {
    expect(decodeGateReply(["WON", "c1", "new", 4])).toEqual({
      outcome: "WON",
      replay: false,
      claimId: "c1",
      remaining: 4,
    });
  });

  it("names a replay's last slot whether the original attempt is still being written", () => {
    expect(decodeGateReply(["WON", "c1", "replay", 1])).toEqual({
      outcome: "WON",
      replay: true,
      claimId: "c1",
      inFlight: true,
    });
    expect(decodeGateReply(["WON", "c1", "replay", 0])).toMatchObject({ inFlight: false });
  });

  it("reads a held claim's id and the bare refusals", () => {
    expect(decodeGateReply(["ALREADY_CLAIMED", "c2"])).toEqual({
      outcome: "ALREADY_CLAIMED",
      claimId: "c2",
    });
    expect(decodeGateReply(["ALREADY_CANCELLED", "c3"])).toEqual({
      outcome: "ALREADY_CANCELLED",
      claimId: "c3",
    });
    for (const outcome of [
      "SOLD_OUT",
      "NOT_STARTED",
      "ENDED",
      "CANCELLED",
      "NOT_FOUND",
      "NOT_LOADED",
    ]) {
      expect(decodeGateReply([outcome])).toEqual({ outcome });
    }
  });

  it("reads an out-of-area refusal, with no distance when no position was sent", () => {
    expect(decodeGateReply(["OUT_OF_AREA", 1250, 500])).toEqual({
      outcome: "OUT_OF_AREA",
      distanceM: 1250,
      radiusM: 500,
    });
    expect(decodeGateReply(["OUT_OF_AREA", -1, 500])).toEqual({
      outcome: "OUT_OF_AREA",
      distanceM: null,
      radiusM: 500,
    });
  });

  it("reads a rate limit's wait", () => {
    expect(decodeGateReply(["RATE_LIMITED", 8200])).toEqual({
      outcome: "RATE_LIMITED",
      retryAfterMs: 8200,
    });
  });

  it("calls every other shape unreadable instead of guessing at its slots", () => {
    for (const reply of [
      null,
      "WON",
      [],
      ["MAYBE"],
      ["WON", "c1", "later", 1],
      ["WON", "c1", "new"],
      ["WON", 7, "new", 1],
      ["ALREADY_CLAIMED"],
      ["OUT_OF_AREA", "far", 500],
      ["RATE_LIMITED"],
    ]) {
      expect(decodeGateReply(reply)).toEqual({ outcome: "UNREADABLE", reply });
    }
  });
});

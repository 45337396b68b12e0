import { describe, expect, it } from "vitest";
import { isOutage } from "./errors";

describe("isOutage", () => {
  it("knows a lost Postgres or Redis connection, also wrapped the way drizzle wraps it", () => {
    const closed = Object.assign(new Error("write CONNECTION_CLOSED"), {
      code: "CONNECTION_CLOSED",
    });
    expect(isOutage(closed)).toBe(true);
    expect(isOutage(new Error("Failed query", { cause: closed }))).toBe(true);
    expect(isOutage(Object.assign(new Error("shutting down"), { code: "57P01" }))).toBe(true);
    expect(isOutage(Object.assign(new Error("no connection"), { code: "08006" }))).toBe(true);
    expect(
      isOutage(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBe(true);
    expect(isOutage(new Error("Cluster isn't ready and enableOfflineQueue options is false"))).toBe(
      true,
    );
  });

  it("leaves other failures alone: they are bugs or refusals, not outages", () => {
    expect(isOutage(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isOutage(new TypeError("x is undefined"))).toBe(false);
    expect(isOutage(undefined)).toBe(false);
  });
});

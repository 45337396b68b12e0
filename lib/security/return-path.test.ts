import { describe, expect, it } from "vitest";
import { safeReturnPath, signInHref } from "./return-path";

describe("safeReturnPath", () => {
  it("keeps a same-origin path with its query", () => {
    expect(safeReturnPath("/deals/abcdefghijkl")).toBe("/deals/abcdefghijkl");
    expect(safeReturnPath("/vouchers?x=1")).toBe("/vouchers?x=1");
  });

  it.each([
    "//evil.com",
    "https://evil.com",
    "http://evil.com/deals",
    "/\\evil.com",
    "\\\\evil.com",
    "/\t/evil.com",
    "/%0a/evil.com".replace("%0a", "\n"),
    "javascript:alert(1)",
    "evil.com",
    "",
    "/sign-in",
  ])("refuses %j", (candidate) => {
    expect(safeReturnPath(candidate)).toBeNull();
  });

  it("refuses nothing at all", () => {
    expect(safeReturnPath(null)).toBeNull();
    expect(safeReturnPath(undefined)).toBeNull();
  });

  it("round-trips through the sign-in link", () => {
    const href = signInHref("/deals/abcdefghijkl?from=list");
    const next = new URL(href, "https://x.invalid").searchParams.get("next");
    expect(safeReturnPath(next)).toBe("/deals/abcdefghijkl?from=list");
  });
});

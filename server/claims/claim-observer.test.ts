import { describe, expect, it } from "vitest";
import { DomainError } from "../errors";
import { outcomeOfError } from "./claim-observer";

describe("outcomeOfError", () => {
  it("names each typed refusal, a shed attempt apart from other unavailability, and the rest ERROR", () => {
    const refusal = (code: ConstructorParameters<typeof DomainError>[0], details = {}) =>
      outcomeOfError(new DomainError(code, "x", details));
    expect(refusal("RATE_LIMITED")).toBe("RATE_LIMITED");
    expect(refusal("OUT_OF_AREA")).toBe("OUT_OF_AREA");
    expect(refusal("NOT_FOUND")).toBe("NOT_FOUND");
    expect(refusal("UNAVAILABLE")).toBe("UNAVAILABLE");
    expect(refusal("UNAVAILABLE", { shed: true })).toBe("SHED");
    expect(refusal("INVALID_STATE")).toBe("ERROR");
    expect(outcomeOfError(new Error("boom"))).toBe("ERROR");
  });
});

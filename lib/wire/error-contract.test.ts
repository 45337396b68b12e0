import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { describe, expect, it } from "vitest";
import {
  DOMAIN_ERRORS,
  httpStatusOfDomainError,
  WIRE_STATUS,
  type WireCode,
} from "./error-contract";
import { ApiRequestError, apiErrorMessage, readApiError } from "./read-api-error";

describe("the wire contract", () => {
  it("gives each code the status tRPC gives it, so both transports answer an error alike", () => {
    const edgeOnly = new Set<WireCode>(["LENGTH_REQUIRED"]);
    for (const [code, status] of Object.entries(WIRE_STATUS) as [WireCode, number][]) {
      if (edgeOnly.has(code)) continue;
      const trpcCode = code as Exclude<WireCode, "LENGTH_REQUIRED">;
      expect([code, getHTTPStatusCodeFromError(new TRPCError({ code: trpcCode }))]).toEqual([
        code,
        status,
      ]);
    }
    expect(httpStatusOfDomainError("CHALLENGE_REQUIRED")).toBe(429);
    expect(httpStatusOfDomainError("NOT_YOURS")).toBe(403);
    expect(Object.values(DOMAIN_ERRORS).every((code) => !edgeOnly.has(code))).toBe(true);
  });
});

describe("readApiError", () => {
  it("reads a tRPC client error, a lean route's refusal and a request that got no answer alike", () => {
    const trpc = Object.assign(new Error("Too many claim attempts."), {
      data: {
        code: "TOO_MANY_REQUESTS",
        httpStatus: 429,
        domainCode: "RATE_LIMITED",
        retryAfterMs: 1_500,
      },
    });
    const route = new ApiRequestError(429, {
      code: "TOO_MANY_REQUESTS",
      domainCode: "RATE_LIMITED",
      message: "Too many claim attempts.",
      retryAfterMs: 1_500,
    });
    const expected = {
      code: "TOO_MANY_REQUESTS",
      status: 429,
      domainCode: "RATE_LIMITED",
      message: "Too many claim attempts.",
      retryAfterMs: 1_500,
    };
    expect(readApiError(trpc)).toMatchObject(expected);
    expect(readApiError(route)).toMatchObject(expected);
    expect(readApiError(new TypeError("Failed to fetch"))).toMatchObject({
      code: "NETWORK",
      status: 0,
    });
  });

  it("says bad input by its field messages, and ignores a domain code it does not know", () => {
    const invalid = Object.assign(new Error("title: too short"), {
      data: {
        code: "BAD_REQUEST",
        domainCode: "MADE_UP",
        fieldErrors: { title: ["too short"], quantity: ["must be at least 1"] },
      },
    });
    expect(readApiError(invalid)).toMatchObject({ status: 400, domainCode: undefined });
    expect(apiErrorMessage(invalid)).toBe("Too short. Must be at least 1.");
    expect(apiErrorMessage(new Error("Gone."))).toBe("Gone.");
  });

  it("says a malformed or unknown id from a link as the page's words, never the field and its rule", () => {
    const malformed = Object.assign(new Error("dealId: must be a 12-character id"), {
      data: { code: "BAD_REQUEST", fieldErrors: { dealId: ["must be a 12-character id"] } },
    });
    const unknown = Object.assign(new Error("No deal has this id."), {
      data: { code: "NOT_FOUND", domainCode: "NOT_FOUND" },
    });
    const missing = "This deal does not exist or is no longer listed.";
    expect(apiErrorMessage(malformed, { missing })).toBe(missing);
    expect(apiErrorMessage(unknown, { missing })).toBe(missing);
    expect(apiErrorMessage(malformed)).toBe("This link is not valid: check it and try again.");
    expect(apiErrorMessage(malformed)).not.toMatch(/dealId|12-character/);
  });
});

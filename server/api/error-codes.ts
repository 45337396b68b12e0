import "server-only";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { ZodError } from "zod";
import type { DomainErrorCode } from "../errors";

/**
 * The one place where domain errors become tRPC codes, and so HTTP statuses: the tRPC
 * procedures and the lean claim route (server/http) answer the same error the same way.
 */
export const TRPC_CODE_OF: Record<DomainErrorCode, TRPCError["code"]> = {
  NOT_FOUND: "NOT_FOUND",
  INVALID_CREDENTIALS: "UNAUTHORIZED",
  EMAIL_TAKEN: "CONFLICT",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  CHALLENGE_REQUIRED: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INVALID_STATE: "CONFLICT",
  DEVICE_UNKNOWN: "UNAUTHORIZED",
  DEVICE_REVOKED: "FORBIDDEN",
  INVITE_REVOKED: "FORBIDDEN",
  OUT_OF_AREA: "FORBIDDEN",
  INVALID_INPUT: "BAD_REQUEST",
  NOT_YOURS: "FORBIDDEN",
};

/** The HTTP status tRPC gives a code, for routes that answer without tRPC. */
export function httpStatusOf(code: TRPCError["code"]): number {
  return getHTTPStatusCodeFromError(new TRPCError({ code }));
}

/** Procedures wrap a form's fields in one of these; errors are keyed by the form's field. */
const FORM_WRAPPERS = new Set(["changes", "fields", "person"]);

/** Input errors keyed by the form field they belong to (`changes.quantity` → `quantity`). */
export function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (path.length > 1 && FORM_WRAPPERS.has(path[0] ?? "")) path.shift();
    const field = path[0] ?? "input";
    fieldErrors[field] = [...(fieldErrors[field] ?? []), issue.message];
  }
  return fieldErrors;
}

/** "field: message" for the first input error: what a person reads. */
export function firstInputMessage(fieldErrors: Record<string, string[]>): string | undefined {
  const [first] = Object.entries(fieldErrors);
  return first ? `${first[0]}: ${first[1][0]}` : undefined;
}

/** What an unexpected error tells the caller: its message may quote SQL, so only the log sees it. */
export const INTERNAL_MESSAGE = "Something went wrong on our side: try again in a moment.";

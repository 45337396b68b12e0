import "server-only";
import type { ClaimRouteError } from "@/lib/claims/claim-client";
import { httpStatusOf, INTERNAL_MESSAGE, TRPC_CODE_OF } from "../api/error-codes";
import type { DomainError } from "../errors";

/**
 * How the lean routes (claim, live stock) answer in JSON, in one place: errors shaped like
 * a tRPC error's data (ClaimRouteError), with the status tRPC gives the same code.
 */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RouteRefusal {
  status: number;
  error: ClaimRouteError;
}

/** Never cached; an error's retry delay is also sent as `Retry-After`; a 405 names `allow`. */
export function jsonAnswer(
  status: number,
  body: { result?: unknown; error?: ClaimRouteError },
  allow: string,
): HttpAnswer {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "cache-control": "no-store",
  };
  const retryAfterMs = body.error?.retryAfterMs;
  if (retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(retryAfterMs / 1_000));
  if (status === 405) headers.allow = allow;
  return { status, headers, body: JSON.stringify(body) };
}

/** A domain error as a route tells it. */
export function domainRefusal(error: DomainError): RouteRefusal {
  const code = TRPC_CODE_OF[error.code];
  const { retryAfterMs, fieldErrors } = error.details as {
    retryAfterMs?: number;
    fieldErrors?: Record<string, string[]>;
  };
  return {
    status: httpStatusOf(code),
    error: { code, domainCode: error.code, message: error.message, retryAfterMs, fieldErrors },
  };
}

/** An unexpected error: its message stays in the log. */
export const INTERNAL_REFUSAL: RouteRefusal = {
  status: 500,
  error: { code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE },
};

import "server-only";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { DomainError } from "../errors";

/** What one claim attempt ended as: the gate's outcome, or the typed refusal before it. */
export type AttemptOutcome =
  | ClaimResult["outcome"]
  | "RATE_LIMITED"
  | "OUT_OF_AREA"
  | "NOT_FOUND"
  | "UNAVAILABLE"
  /** Refused before the gate because the gate was overloaded (LoadShedder). */
  | "SHED"
  | "ERROR";

export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = [
  "WON",
  "ALREADY_CLAIMED",
  "ALREADY_CANCELLED",
  "SOLD_OUT",
  "NOT_STARTED",
  "ENDED",
  "CANCELLED",
  "RATE_LIMITED",
  "OUT_OF_AREA",
  "NOT_FOUND",
  "UNAVAILABLE",
  "SHED",
  "ERROR",
];

export interface ClaimAttempt {
  dealId: string;
  outcome: AttemptOutcome;
  /** The whole attempt as the shopper waits for it (limits, gate, Postgres, voucher). */
  durationMs: number;
  /** The claim engine's share; absent when the attempt was refused before the gate. */
  gateMs?: number;
}

/** Told of every claim attempt after it is decided; must be cheap and must not throw. */
export type ClaimObserver = (attempt: ClaimAttempt) => void;

export function outcomeOfError(error: unknown): AttemptOutcome {
  if (!DomainError.is(error)) return "ERROR";
  switch (error.code) {
    case "RATE_LIMITED":
    case "OUT_OF_AREA":
    case "NOT_FOUND":
      return error.code;
    case "CHALLENGE_REQUIRED":
      return "RATE_LIMITED";
    case "UNAVAILABLE":
      return error.details.shed === true ? "SHED" : error.code;
    default:
      return "ERROR";
  }
}

import "server-only";
import type { AttemptOutcome } from "@/lib/claims/claim-outcomes";
import { DomainError } from "../errors";

export type { AttemptOutcome };

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

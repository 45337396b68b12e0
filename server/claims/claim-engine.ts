import "server-only";
import type { ClaimResult } from "@/lib/claims/claim-contract";

export interface ClaimRequest {
  dealId: string;
  userId: string;
  idempotencyKey: string;
  now: Date;
}

/**
 * Decides claim attempts and makes every win durable in Postgres before answering it.
 * Two implementations keep one contract: the Redis gate and the embedded Postgres gate.
 */
export interface ClaimEngine {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Called after Postgres has cancelled a claim and given its unit back: the gate learns the
   * unit is free and the user may claim again. Best effort: the reconciler heals a miss.
   */
  returnCancelledUnit(claim: CancelledClaim): Promise<void>;
}

export interface CancelledClaim {
  claimId: string;
  dealId: string;
  userId: string;
  idempotencyKey: string;
}

/** Only the deciding half of an engine: what the benchmark's alternative designs implement. */
export type ClaimDecider = Pick<ClaimEngine, "claim">;

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
}

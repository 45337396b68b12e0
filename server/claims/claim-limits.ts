import "server-only";
import { DomainError } from "../errors";

/**
 * How often one shopper, and one address, may try to claim one deal. Counted per deal so
 * the Redis gate can count in the same script that decides the attempt (one round trip,
 * one Cluster slot). The address limit is generous: a venue's shoppers share one address.
 */
export const CLAIM_LIMITS = { windowMs: 10_000, perShopper: 20, perAddress: 600 } as const;

export function rateLimitedError(retryAfterMs: number): DomainError {
  return new DomainError("RATE_LIMITED", "Too many claim attempts: wait a moment and try again.", {
    retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
  });
}

import "server-only";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import type { Point } from "@/lib/geo";
import { DomainError } from "../errors";

export interface ClaimRequest {
  dealId: string;
  userId: string;
  idempotencyKey: string;
  now: Date;
  /** Where the shopper says they are; a geo-fenced deal refuses claims without it. */
  position?: Point;
  /** The client's address, for the per-address attempt limit (none: not limited by address). */
  ip?: string;
  /**
   * Called once the gate has decided, before a winner's Postgres write: what the load
   * shedder times. Called at most once; not called when the gate could not be asked.
   */
  decided?: () => void;
}

/**
 * The refusal of a claim from outside a deal's geo-fence (`distanceM` null when no position
 * was sent). The position is the browser's, trusted as given: a determined shopper can fake it.
 */
export function outOfAreaError(distanceM: number | null, radiusM: number): DomainError {
  if (distanceM === null) {
    return new DomainError(
      "OUT_OF_AREA",
      "This deal can only be claimed nearby: share your location first.",
      { radiusM },
    );
  }
  const away = distanceM >= 1_000 ? `${(distanceM / 1_000).toFixed(1)} km` : `${distanceM} m`;
  return new DomainError(
    "OUT_OF_AREA",
    `This deal can only be claimed within ${radiusM} m of the shop; you are ${away} away.`,
    { distanceM, radiusM },
  );
}

/**
 * Decides claim attempts and makes every win durable in Postgres before answering it.
 * Two implementations keep one contract: the Redis gate and the embedded Postgres gate.
 */
export interface ClaimEngine {
  /** Decides one attempt; an attempt over CLAIM_LIMITS throws RATE_LIMITED and changes nothing. */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Called after Postgres has cancelled a claim and given its unit back: the gate learns the
   * unit is free and the user may claim again. Best effort: the reconciler heals a miss.
   */
  returnCancelledUnit(claim: CancelledClaim): Promise<void>;
  /**
   * Called after a deal was created or edited in Postgres: the gate learns the deal at once,
   * and is loaded ahead of its sale.
   */
  dealChanged(dealId: string): Promise<void>;
  /**
   * Makes sure a deal's gate is loaded before its sale starts, so that the first second of
   * the sale meets a warm gate instead of waiting on a load from Postgres (and being shed).
   * Cheap when it is loaded already: the pre-start sweep calls it for every upcoming deal.
   */
  prepare(dealId: string): Promise<void>;
  /**
   * Resolves once every winner this process's gate granted has been settled: its row
   * committed, or refused and its unit given back, and the gate told which. Called on the way
   * down, after the last request, before the pools close (server/http/graceful-stop.ts).
   */
  settle(): Promise<void>;
}

export interface CancelledClaim {
  claimId: string;
  dealId: string;
  userId: string;
  idempotencyKey: string;
  /**
   * The claim had a voucher: its shopper may never claim this deal again (one voucher per
   * shopper per deal). A reservation given up unpaid had none, and its shopper may retry.
   */
  hadVoucher: boolean;
}

/** Only the deciding half of an engine: what the benchmark's alternative designs implement. */
export type ClaimDecider = Pick<ClaimEngine, "claim">;

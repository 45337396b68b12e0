import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { deals } from "@/db/schema";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import type { ClaimDecider, ClaimRequest } from "@/server/claims/claim-engine";
import { decideUnderLock, lockedDealColumns } from "./locked-claim";

/**
 * The classic design: every attempt, winner or not, opens a transaction and queues on the
 * deal's row lock (`SELECT ... FOR UPDATE`). Correct, and strictly one attempt at a time
 * per deal, which is the throughput ceiling this benchmark measures.
 */
export class RowLockClaimEngine implements ClaimDecider {
  constructor(private readonly options: { db: Db; reservationMs: number }) {}

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.options.db.transaction(async (transaction) => {
      const tx = transaction as unknown as Db;
      const [deal] = await tx
        .select(lockedDealColumns)
        .from(deals)
        .where(eq(deals.id, request.dealId))
        .for("update");
      return decideUnderLock(tx, deal, request, this.options.reservationMs);
    });
  }
}

import "server-only";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";

/**
 * A deal's redemptions for its sale figures: those that count, and the conflicts that do not
 * (each one a deal handed over at a counter: a second time, or after the voucher was
 * cancelled). Read through the deal's claims, whose index leads with the deal; one statement,
 * so one snapshot.
 */
export async function redemptionFigures(db: Db, dealId: string) {
  const [row] = rowsOf<{ redeemed: number; twice: number; afterCancellation: number }>(
    await db.execute(sql`
      SELECT (SELECT count(*)::int FROM claims c
                JOIN vouchers v ON v.claim_id = c.id
                JOIN redemptions r ON r.voucher_id = v.id
               WHERE c.deal_id = ${dealId}) AS redeemed,
             count(*) FILTER (WHERE rc.kind = 'redeemed_twice')::int AS twice,
             count(*) FILTER (WHERE rc.kind = 'redeemed_after_cancellation')::int
               AS "afterCancellation"
        FROM claims c
        JOIN vouchers v ON v.claim_id = c.id
        JOIN redemption_conflicts rc ON rc.voucher_id = v.id
       WHERE c.deal_id = ${dealId}`),
  );
  return {
    redeemed: row?.redeemed ?? 0,
    redeemedTwice: row?.twice ?? 0,
    redeemedAfterCancellation: row?.afterCancellation ?? 0,
  };
}

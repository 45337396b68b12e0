import "server-only";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import type { ClaimEngine } from "./claim-engine";

/**
 * Ends priced reservations whose time ran out without payment: the claim becomes `expired`
 * and its unit goes back on sale, in Postgres first and then at the gate. The state lives in
 * Postgres, so a restart loses nothing: the next sweep finds what is overdue. `SKIP LOCKED`
 * lets every instance sweep at once without two of them ending the same reservation.
 */
export async function expireReservations(
  db: Db,
  engine: ClaimEngine,
  now: Date,
  onStockChange: (dealId: string) => void = () => undefined,
  limit = 500,
): Promise<number> {
  const result = await db.execute(sql`
    WITH overdue AS (
      SELECT id FROM claims
      WHERE status = 'reserved' AND reserved_until < ${now.toISOString()}::timestamptz
      ORDER BY reserved_until LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), ended AS (
      UPDATE claims c SET status = 'expired', updated_at = ${now.toISOString()}::timestamptz
      FROM overdue WHERE c.id = overdue.id
      RETURNING c.id, c.deal_id, c.user_id, c.idempotency_key
    ), returned AS (
      UPDATE deals d SET sold = d.sold - n.units
      FROM (SELECT deal_id, count(*)::int AS units FROM ended GROUP BY deal_id) n
      WHERE d.id = n.deal_id
    )
    SELECT id, deal_id, user_id, idempotency_key FROM ended`);
  const ended = rowsOf<{ id: string; deal_id: string; user_id: string; idempotency_key: string }>(
    result,
  );
  for (const claim of ended) {
    await engine.returnCancelledUnit({
      claimId: claim.id,
      dealId: claim.deal_id,
      userId: claim.user_id,
      idempotencyKey: claim.idempotency_key,
      hadVoucher: false, // an expired reservation was never paid: its shopper may try again
    });
    onStockChange(claim.deal_id);
  }
  return ended.length;
}

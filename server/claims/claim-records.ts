import "server-only";
import { and, eq, inArray, or, sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import { ACTIVE_CLAIM_STATUSES, claims } from "@/db/schema";
import type { ClaimResult, ClaimStatus } from "@/lib/claims/claim-contract";

export interface NewClaim {
  claimId: string;
  dealId: string;
  userId: string;
  idempotencyKey: string;
  now: Date;
  reservationMs: number;
}

/**
 * Records a win in one statement: count the unit on the deal (refused past its quantity, the
 * last line of defence against an oversell whatever Redis says) and insert the claim. A free
 * deal's claim is confirmed at once; a priced one is reserved until payment or expiry.
 * Returns null when Postgres refuses the unit (deal sold out or cancelled there); throws
 * unique_violation (23505) when the user already holds a claim or reused the key.
 */
export async function insertWinningClaim(
  db: Db,
  claim: NewClaim,
): Promise<{ status: ClaimStatus; reservedUntil: Date | null } | null> {
  const reservedUntil = new Date(claim.now.getTime() + claim.reservationMs).toISOString();
  const result = await db.execute(sql`
    WITH unit AS (
      UPDATE deals SET sold = sold + 1
      WHERE id = ${claim.dealId} AND sold < quantity AND status = 'active'
      RETURNING id, price_cents
    )
    INSERT INTO claims (id, deal_id, user_id, status, idempotency_key, reserved_until, created_at, updated_at)
    SELECT ${claim.claimId}, unit.id, ${claim.userId},
      (CASE WHEN unit.price_cents > 0 THEN 'reserved' ELSE 'confirmed' END)::claim_status,
      ${claim.idempotencyKey},
      CASE WHEN unit.price_cents > 0 THEN ${reservedUntil}::timestamptz END,
      ${claim.now.toISOString()}::timestamptz, ${claim.now.toISOString()}::timestamptz
    FROM unit
    RETURNING status, reserved_until`);
  const row = rowsOf<{ status: ClaimStatus; reserved_until: string | Date | null }>(result)[0];
  if (!row) return null;
  return {
    status: row.status,
    reservedUntil: row.reserved_until === null ? null : new Date(row.reserved_until),
  };
}

/** The claim's voucher was issued (and, if the claim was cancelled, revoked). */
export const hadVoucher = sql`EXISTS (SELECT 1 FROM vouchers v WHERE v.claim_id = ${claims.id})`;

/**
 * What an attempt means when the user already has a claim on the deal: the same key replays
 * its original win; another key is told which claim the user already holds, or which claim
 * they cancelled after its voucher was issued (one voucher per shopper per deal, ever).
 */
export async function findPriorClaim(
  db: Db,
  request: { dealId: string; userId: string; idempotencyKey: string },
): Promise<ClaimResult | null> {
  const rows = await db
    .select({
      id: claims.id,
      status: claims.status,
      idempotencyKey: claims.idempotencyKey,
      reservedUntil: claims.reservedUntil,
    })
    .from(claims)
    .where(
      and(
        eq(claims.dealId, request.dealId),
        eq(claims.userId, request.userId),
        or(
          eq(claims.idempotencyKey, request.idempotencyKey),
          inArray(claims.status, [...ACTIVE_CLAIM_STATUSES]),
          and(eq(claims.status, "cancelled"), hadVoucher),
        ),
      ),
    );
  const sameKey = rows.find((row) => row.idempotencyKey === request.idempotencyKey);
  if (sameKey) {
    return {
      outcome: "WON",
      claimId: sameKey.id,
      status: sameKey.status,
      reservedUntil: sameKey.reservedUntil,
      replayed: true,
    };
  }
  const active = rows.find((row) => row.status === "reserved" || row.status === "confirmed");
  if (active) return { outcome: "ALREADY_CLAIMED", claimId: active.id };
  const given = rows.find((row) => row.status === "cancelled");
  return given ? { outcome: "ALREADY_CANCELLED", claimId: given.id } : null;
}

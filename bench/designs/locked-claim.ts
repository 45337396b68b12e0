import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals } from "@/db/schema";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import type { ClaimRequest } from "@/server/claims/claim-engine";
import { findPriorClaim } from "@/server/claims/claim-records";

export type LockedDeal = Pick<
  typeof deals.$inferSelect,
  "status" | "quantity" | "sold" | "startsAt" | "endsAt" | "priceCents"
>;

/** The deal columns a locked design reads before deciding. */
export const lockedDealColumns = {
  status: deals.status,
  quantity: deals.quantity,
  sold: deals.sold,
  startsAt: deals.startsAt,
  endsAt: deals.endsAt,
  priceCents: deals.priceCents,
};

/**
 * The decision both lock designs make once they hold their lock (a row lock or a Redis lock),
 * in the Lua gate's order so that all designs answer alike: a reused key replays its win
 * even after the sale sold out or ended, then one claim per user, then window and stock.
 * Plain read-check-write: it is correct only because the caller holds the deal's lock.
 */
export async function decideUnderLock(
  tx: Db,
  deal: LockedDeal | undefined,
  request: ClaimRequest,
  reservationMs: number,
): Promise<ClaimResult> {
  if (!deal) throw new Error(`no deal has the id ${request.dealId}`);

  const prior = await findPriorClaim(tx, request);
  if (prior) return prior;

  if (deal.status === "cancelled") return { outcome: "CANCELLED" };
  if (request.now < deal.startsAt) return { outcome: "NOT_STARTED" };
  if (request.now >= deal.endsAt) return { outcome: "ENDED" };
  if (deal.sold >= deal.quantity) return { outcome: "SOLD_OUT" };

  const priced = deal.priceCents > 0;
  const status = priced ? "reserved" : "confirmed";
  const reservedUntil = priced ? new Date(request.now.getTime() + reservationMs) : null;
  const claimId = newId();
  await tx
    .update(deals)
    .set({ sold: sql`${deals.sold} + 1` })
    .where(eq(deals.id, request.dealId));
  await tx.insert(claims).values({
    id: claimId,
    dealId: request.dealId,
    userId: request.userId,
    status,
    idempotencyKey: request.idempotencyKey,
    reservedUntil,
    createdAt: request.now,
    updatedAt: request.now,
  });
  return { outcome: "WON", claimId, status, reservedUntil, replayed: false };
}

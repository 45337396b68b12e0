import "server-only";
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals, merchants, redemptions, vouchers } from "@/db/schema";
import type { VoucherState } from "@/lib/vouchers/voucher-format";
import { DomainError } from "../errors";
import type { VoucherIssuer } from "./voucher-issuer";

/** Anything that runs statements: the database or a transaction. */
type Executor = Pick<Db, "update">;

/**
 * Revokes the vouchers of claims being cancelled or refunded, in the caller's transaction.
 * Devices read revocations by `revoked_at` (server/vouchers/trust-feeds.ts): the transaction
 * must commit within FEED_OVERLAP_MS of `now`.
 */
export async function revokeVouchersOfClaims(
  executor: Executor,
  claimIds: string[],
  reason: string,
  now: Date,
): Promise<void> {
  if (claimIds.length === 0) return;
  await executor
    .update(vouchers)
    .set({ revokedAt: now, revokeReason: reason })
    .where(and(inArray(vouchers.claimId, claimIds), isNull(vouchers.revokedAt)));
}

/** What shoppers see of their vouchers. */
export class VoucherService {
  constructor(
    private readonly db: Db,
    private readonly issuer: VoucherIssuer,
    private readonly clock: () => Date,
  ) {}

  /** A shopper's vouchers, newest first, with the state each is in now. */
  async mine(userId: string) {
    await this.issuer.issueMissing(userId);
    const rows = await this.shopperVouchers(userId);
    return rows.map((row) => this.withState(row));
  }

  /** One of the shopper's vouchers, token included; another shopper's is simply not found. */
  async forShopper(userId: string, voucherId: string) {
    const [row] = await this.shopperVouchers(userId, voucherId);
    if (!row)
      throw new DomainError("NOT_FOUND", "You have no voucher with this id.", { voucherId });
    return this.withState(row);
  }

  private shopperVouchers(userId: string, voucherId?: string) {
    return this.db
      .select({
        id: vouchers.id,
        token: vouchers.token,
        claimId: vouchers.claimId,
        issuedAt: vouchers.issuedAt,
        expiresAt: vouchers.expiresAt,
        revokedAt: vouchers.revokedAt,
        revokeReason: vouchers.revokeReason,
        redeemedAt: redemptions.redeemedAt,
        dealId: deals.id,
        dealTitle: deals.title,
        priceCents: deals.priceCents,
        currency: deals.currency,
        merchantName: merchants.name,
        merchantAddress: merchants.address,
      })
      .from(vouchers)
      .innerJoin(claims, eq(claims.id, vouchers.claimId))
      .innerJoin(deals, eq(deals.id, vouchers.dealId))
      .innerJoin(merchants, eq(merchants.id, vouchers.merchantId))
      .leftJoin(redemptions, eq(redemptions.voucherId, vouchers.id))
      .where(
        voucherId
          ? and(eq(claims.userId, userId), eq(vouchers.id, voucherId))
          : eq(claims.userId, userId),
      )
      .orderBy(desc(vouchers.issuedAt), sql`${vouchers.id}`);
  }

  private withState<T extends { redeemedAt: Date | null; revokedAt: Date | null; expiresAt: Date }>(
    row: T,
  ): T & { state: VoucherState } {
    const state: VoucherState = row.redeemedAt
      ? "redeemed"
      : row.revokedAt
        ? "cancelled"
        : row.expiresAt <= this.clock()
          ? "expired"
          : "active";
    return { ...row, state };
  }
}

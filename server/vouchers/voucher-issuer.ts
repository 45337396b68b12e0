import "server-only";
import { createHmac } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { signVoucher } from "@/lib/vouchers/sign-voucher";
import { payloadOfVoucher } from "@/lib/vouchers/voucher-format";
import type { SigningKeyStore } from "./signing-keys";

export type VoucherRow = typeof vouchers.$inferSelect;

/**
 * Turns confirmed claims into signed vouchers, once per claim (the claim id is unique among
 * vouchers, so a retry or a race returns the voucher already made).
 */
export class VoucherIssuer {
  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeyStore,
    private readonly subjectSecret: string,
    private readonly clock: () => Date,
  ) {}

  /** Returns the claim's voucher, issuing it if needed; null while the claim is not confirmed. */
  async issueForClaim(claimId: string): Promise<VoucherRow | null> {
    const [claim] = await this.db
      .select({
        status: claims.status,
        userId: claims.userId,
        dealId: deals.id,
        merchantId: deals.merchantId,
        validUntil: deals.voucherValidUntil,
        voucher: vouchers,
      })
      .from(claims)
      .innerJoin(deals, eq(deals.id, claims.dealId))
      .leftJoin(vouchers, eq(vouchers.claimId, claims.id))
      .where(eq(claims.id, claimId));
    if (!claim) return null;
    if (claim.voucher) return claim.voucher;
    if (claim.status !== "confirmed") return null;

    // Whole seconds, as in the token, so the row and the token say the same thing.
    const issuedAt = new Date(Math.floor(this.clock().getTime() / 1_000) * 1_000);
    const voucher = {
      id: newId(),
      dealId: claim.dealId,
      merchantId: claim.merchantId,
      subject: this.subjectFor(claim.userId, claim.merchantId),
      issuedAt,
      notBefore: issuedAt,
      expiresAt: claim.validUntil,
    };
    const key = await this.keys.signingKey();
    const token = await signVoucher(payloadOfVoucher(voucher), key);
    const [inserted] = await this.db
      .insert(vouchers)
      .values({ ...voucher, claimId, kid: key.kid, token })
      .onConflictDoNothing({ target: vouchers.claimId })
      .returning();
    if (inserted) return inserted;
    const [raced] = await this.db.select().from(vouchers).where(eq(vouchers.claimId, claimId));
    return raced ?? null;
  }

  /** Issues the vouchers a shopper is owed but lacks (a crash between claim and voucher). */
  async issueMissing(userId: string): Promise<void> {
    const owed = await this.db
      .select({ id: claims.id })
      .from(claims)
      .leftJoin(vouchers, eq(vouchers.claimId, claims.id))
      .where(
        sql`${claims.userId} = ${userId} AND ${claims.status} = 'confirmed' AND ${vouchers.id} IS NULL`,
      );
    for (const claim of owed) await this.issueForClaim(claim.id);
  }

  /**
   * The shopper as a merchant sees them: the same person gets the same subject at one
   * merchant (to spot a regular) and unrelated subjects at different merchants.
   */
  private subjectFor(userId: string, merchantId: string): string {
    return createHmac("sha256", this.subjectSecret)
      .update(`${merchantId}:${userId}`)
      .digest("base64url")
      .slice(0, 12);
  }
}

import "server-only";
import { createHmac } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import type { Db } from "@/db/client";
import { claims, deals, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { payloadOfVoucher } from "@/lib/vouchers/voucher-format";
import { GroupCommit } from "../claims/group-commit";
import type { SigningKeyStore } from "./signing-keys";
import { signVoucherToken } from "./voucher-signer";

export type VoucherRow = typeof vouchers.$inferSelect;

/** What issuing needs to know of a claim, and the voucher it already has, if any. */
type ClaimForVoucher = {
  claimId: string;
  status: string;
  userId: string;
  dealId: string;
  merchantId: string;
  validUntil: Date;
  voucher: VoucherRow | null;
};

/** What a voucher is signed with from its deal, and whether the deal is free. */
type DealTerms = { merchantId: string; validUntil: Date; free: boolean };

/**
 * A voucher signed for a winner before its claim is written, to be inserted with the claim
 * (record_winners, db/migrations/0008_record_winners.sql), which checks it against the deal.
 */
export type VoucherDraft = {
  voucher_id: string;
  voucher_subject: string;
  voucher_kid: string;
  voucher_token: string;
  voucher_issued_at: string;
  voucher_expires_at: string;
  voucher_merchant_id: string;
};

/**
 * Turns confirmed claims into signed vouchers, once per claim (the claim id is unique among
 * vouchers, so a retry or a race returns the voucher already made). Vouchers asked for at
 * the same moment (a sale's first second) are issued together: one read, one insert.
 */
export class VoucherIssuer {
  private readonly batches: GroupCommit<string, VoucherRow | null>;
  /**
   * Deals' terms for vouchers signed ahead of their claim. Kept a minute, and dropped when
   * record_winners finds them stale: a stale entry costs that winner the ordinary issue path,
   * never a wrong voucher, since the statement compares them with the deal row.
   */
  private readonly terms = new LRUCache<string, DealTerms>({ max: 10_000, ttl: 60_000 });

  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeyStore,
    private readonly subjectSecret: string,
    private readonly clock: () => Date,
  ) {
    // A batch that fails issues each of its vouchers alone, so each failure is its own.
    this.batches = new GroupCommit(
      (claimIds) => this.issueBatch(claimIds),
      (claimId) => this.issueBatch([claimId]).then(([voucher]) => voucher ?? null),
      { maxBatch: 500, maxInFlight: 2 },
    );
  }

  /** Returns the claim's voucher, issuing it if needed; null while the claim is not confirmed. */
  issueForClaim(claimId: string): Promise<VoucherRow | null> {
    return this.batches.submit(claimId);
  }

  private async issueBatch(claimIds: string[]): Promise<(VoucherRow | null)[]> {
    const found = await this.db
      .select({
        claimId: claims.id,
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
      .where(inArray(claims.id, claimIds));
    const byClaim = new Map<string, VoucherRow | null>(
      found.map((claim) => [claim.claimId, claim.voucher]),
    );
    const owed = found.filter((claim) => !claim.voucher && claim.status === "confirmed");
    if (owed.length > 0) {
      for (const voucher of await this.insertSigned(owed)) byClaim.set(voucher.claimId, voucher);
    }
    return claimIds.map((claimId) => byClaim.get(claimId) ?? null);
  }

  /**
   * Vouchers for winners of free deals, signed before their claims exist; undefined for a
   * winner of a priced deal (its voucher waits for payment) or of a deal not found.
   */
  async draftsFor(
    winners: { claimId: string; dealId: string; userId: string }[],
  ): Promise<(VoucherDraft | undefined)[]> {
    const missing = [...new Set(winners.map((w) => w.dealId))].filter((id) => !this.terms.has(id));
    if (missing.length > 0) {
      const found = await this.db
        .select({
          id: deals.id,
          merchantId: deals.merchantId,
          validUntil: deals.voucherValidUntil,
          priceCents: deals.priceCents,
        })
        .from(deals)
        .where(inArray(deals.id, missing));
      for (const deal of found) {
        this.terms.set(deal.id, { ...deal, free: deal.priceCents === 0 });
      }
    }
    const owed = winners.flatMap((winner) => {
      const terms = this.terms.get(winner.dealId);
      return terms?.free ? [{ ...winner, ...terms }] : [];
    });
    const signed = new Map(
      (await this.signRows(owed)).map((row) => [
        row.claimId,
        {
          voucher_id: row.id,
          voucher_subject: row.subject,
          voucher_kid: row.kid,
          voucher_token: row.token,
          voucher_issued_at: row.issuedAt.toISOString(),
          voucher_expires_at: row.expiresAt.toISOString(),
          voucher_merchant_id: row.merchantId,
        },
      ]),
    );
    return winners.map((winner) => signed.get(winner.claimId));
  }

  /** The deal's terms changed (or were found stale): the next draft reads them again. */
  forgetDeal(dealId: string): void {
    this.terms.delete(dealId);
  }

  private async signRows(
    owed: Pick<ClaimForVoucher, "claimId" | "userId" | "dealId" | "merchantId" | "validUntil">[],
  ) {
    if (owed.length === 0) return [];
    // Whole seconds, as in the token, so the row and the token say the same thing.
    const issuedAt = new Date(Math.floor(this.clock().getTime() / 1_000) * 1_000);
    const key = await this.keys.signingKey();
    return owed.map((claim) => {
      const voucher = {
        id: newId(),
        dealId: claim.dealId,
        merchantId: claim.merchantId,
        subject: this.subjectFor(claim.userId, claim.merchantId),
        issuedAt,
        notBefore: issuedAt,
        expiresAt: claim.validUntil,
      };
      const token = signVoucherToken(payloadOfVoucher(voucher), key);
      return { ...voucher, claimId: claim.claimId, kid: key.kid, token };
    });
  }

  /** Signs and inserts vouchers; one a concurrent issuer inserted first is read back instead. */
  private async insertSigned(owed: ClaimForVoucher[]): Promise<VoucherRow[]> {
    const rows = await this.signRows(owed);
    const inserted = await this.db
      .insert(vouchers)
      .values(rows)
      .onConflictDoNothing({ target: vouchers.claimId })
      .returning();
    if (inserted.length === rows.length) return inserted;
    const raced = await this.db
      .select()
      .from(vouchers)
      .where(
        inArray(
          vouchers.claimId,
          rows.map((row) => row.claimId),
        ),
      );
    return raced;
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

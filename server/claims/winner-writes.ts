import "server-only";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import type { ClaimStatus } from "@/lib/claims/claim-contract";
import type { VoucherDraft } from "../vouchers/voucher-issuer";
import type { NewClaim } from "./claim-records";
import { GroupCommit } from "./group-commit";

export type WrittenClaim = { status: ClaimStatus; reservedUntil: Date | null; voucherId?: string };

/** Signs free deals' vouchers ahead of their claims (VoucherIssuer). */
export interface VoucherDrafts {
  draftsFor(
    winners: { claimId: string; dealId: string; userId: string }[],
  ): Promise<(VoucherDraft | undefined)[]>;
  forgetDeal(dealId: string): void;
}

/** The batch did not record this winner: write it alone, where its refusal can be told. */
export const WRITE_ALONE = Symbol("write alone");

/**
 * Group commit of winners (see GroupCommit). Each winner still waits for its own row to be
 * committed before it is told "won", but winners that arrive together share one INSERT.
 *
 * A batch is all or nothing. Any error (a deal full or cancelled in Postgres, a broken
 * connection) sends every winner of the batch back to be written alone, and a winner the
 * batch skipped (a unique conflict: the user already holds a claim) is sent back too, so
 * every refusal is told exactly as the single-row path tells it.
 */
export class WinnerWrites {
  private readonly commits: GroupCommit<NewClaim, WrittenClaim | typeof WRITE_ALONE>;

  /**
   * `vouchers`: when given, a free deal's winners get their vouchers in the statement that
   * records their claims; without it (or for a voucher the statement refused) the claim
   * service issues them after the answer's claim is written, as before.
   */
  constructor(
    private readonly db: Db,
    private readonly vouchers?: VoucherDrafts,
  ) {
    this.commits = new GroupCommit(
      (claims) => this.writeBatch(claims),
      () => WRITE_ALONE,
      {
        maxBatch: 500,
        // Batches of one sale wait on each other for the deal's `sold` row (Lock:transactionid
        // in bench:profile); two in flight keep one committing while the next is built.
        maxInFlight: 2,
      },
    );
  }

  /** Statements sent, for tests and the benchmark. */
  get statements(): number {
    return this.commits.batches;
  }

  write(claim: NewClaim): Promise<WrittenClaim | typeof WRITE_ALONE> {
    return this.commits.submit(claim);
  }

  private async writeBatch(batch: NewClaim[]): Promise<(WrittenClaim | typeof WRITE_ALONE)[]> {
    // A voucher that cannot be signed now is issued after the claim, the ordinary way.
    const drafts = this.vouchers ? await this.vouchers.draftsFor(batch).catch(() => []) : [];
    const result = await this.db.execute(recordWinners(batch, drafts));
    const written = new Map(
      rowsOf<{
        claim_id: string;
        claim_status: ClaimStatus;
        reserved_until: string | Date | null;
        voucher_id: string | null;
      }>(result).map((row) => [row.claim_id, row]),
    );
    for (const [i, claim] of batch.entries()) {
      const row = written.get(claim.claimId);
      // Signed, but the deal's terms had changed: read them again for the next batch.
      if (drafts[i] && row?.claim_status === "confirmed" && !row.voucher_id) {
        this.vouchers?.forgetDeal(claim.dealId);
      }
    }
    return batch.map((claim) => {
      const row = written.get(claim.claimId);
      return row
        ? {
            status: row.claim_status,
            reservedUntil: row.reserved_until === null ? null : new Date(row.reserved_until),
            ...(row.voucher_id ? { voucherId: row.voucher_id } : {}),
          }
        : WRITE_ALONE;
    });
  }
}

/**
 * Claims, `sold` and vouchers in one statement (record_winners, migration 0008): if any deal
 * would pass its quantity (the check constraint) the whole batch rolls back. The batch is one
 * JSON parameter, so the statement's text and plan are the same whatever its size, and
 * postgres.js binds one value instead of six per winner.
 */
export function recordWinners(batch: NewClaim[], drafts: (VoucherDraft | undefined)[]) {
  const winners = JSON.stringify(
    batch.map((claim, i) => ({
      id: claim.claimId,
      deal_id: claim.dealId,
      user_id: claim.userId,
      idempotency_key: claim.idempotencyKey,
      now: claim.now.toISOString(),
      reserved_until: new Date(claim.now.getTime() + claim.reservationMs).toISOString(),
      ...drafts[i],
    })),
  );
  return sql`SELECT * FROM record_winners(${winners}::json)`;
}

import "server-only";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import type { ClaimStatus } from "@/lib/claims/claim-contract";
import type { NewClaim } from "./claim-records";
import { GroupCommit } from "./group-commit";

export type WrittenClaim = { status: ClaimStatus; reservedUntil: Date | null };

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

  constructor(private readonly db: Db) {
    this.commits = new GroupCommit(
      (claims) => this.writeBatch(claims),
      () => WRITE_ALONE,
      {
        maxBatch: 500,
        maxInFlight: 4,
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
    // One JSON parameter for the whole batch: a statement's text and plan stay the same
    // whatever the batch's size, and postgres.js binds one value instead of six per winner.
    const winners = JSON.stringify(
      batch.map((claim) => ({
        id: claim.claimId,
        deal_id: claim.dealId,
        user_id: claim.userId,
        idempotency_key: claim.idempotencyKey,
        now: claim.now.toISOString(),
        reserved_until: new Date(claim.now.getTime() + claim.reservationMs).toISOString(),
      })),
    );
    // The inserts and the `sold` counts are one statement: if any deal would pass its quantity
    // (the check constraint) the whole batch rolls back and its winners are written alone.
    const result = await this.db.execute(sql`
      WITH winner AS (
        SELECT * FROM json_to_recordset(${winners}::json) AS w(id text, deal_id text,
          user_id text, idempotency_key text, now timestamptz, reserved_until timestamptz)
      ),
      inserted AS (
        INSERT INTO claims (id, deal_id, user_id, status, idempotency_key, reserved_until, created_at, updated_at)
        SELECT w.id, w.deal_id, w.user_id,
          (CASE WHEN d.price_cents > 0 THEN 'reserved' ELSE 'confirmed' END)::claim_status,
          w.idempotency_key,
          CASE WHEN d.price_cents > 0 THEN w.reserved_until END,
          w.now, w.now
        FROM winner w JOIN deals d ON d.id = w.deal_id AND d.status = 'active'
        ON CONFLICT DO NOTHING
        RETURNING id, deal_id, status, reserved_until
      ),
      counted AS (
        UPDATE deals SET sold = deals.sold + n.units
        FROM (SELECT deal_id, count(*)::int AS units FROM inserted GROUP BY deal_id) n
        WHERE deals.id = n.deal_id
        RETURNING deals.id
      )
      SELECT id, status, reserved_until FROM inserted`);
    const written = new Map(
      rowsOf<{ id: string; status: ClaimStatus; reserved_until: string | Date | null }>(result).map(
        (row) => [row.id, row],
      ),
    );
    return batch.map((claim) => {
      const row = written.get(claim.claimId);
      return row
        ? {
            status: row.status,
            reservedUntil: row.reserved_until === null ? null : new Date(row.reserved_until),
          }
        : WRITE_ALONE;
    });
  }
}

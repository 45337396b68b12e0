import "server-only";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import type { ClaimStatus } from "@/lib/claims/claim-contract";
import type { NewClaim } from "./claim-records";

export type WrittenClaim = { status: ClaimStatus; reservedUntil: Date | null };

/** The batch did not record this winner: write it alone, where its refusal can be told. */
export const WRITE_ALONE = Symbol("write alone");

const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 4;

interface Waiting {
  claim: NewClaim;
  resolve: (written: WrittenClaim | typeof WRITE_ALONE) => void;
}

/**
 * Group commit of winners. Each winner still waits for its own row to be committed before it
 * is told "won", but winners that arrive while earlier writes are in flight share the next
 * statement instead of taking a transaction each: with no traffic a winner is written at
 * once; under a burst, a few hundred go in one INSERT. At most MAX_IN_FLIGHT statements run
 * at a time, so a burst leaves the connection pool to the rest of the app.
 *
 * A batch is all or nothing. Any error (a deal full or cancelled in Postgres, a broken
 * connection) sends every winner of the batch back to be written alone, and a winner the
 * batch skipped (a unique conflict: the user already holds a claim) is sent back too, so
 * every refusal is told exactly as the single-row path tells it.
 */
export class WinnerWrites {
  /** Statements sent, for tests and the benchmark. */
  statements = 0;
  private queue: Waiting[] = [];
  private inFlight = 0;

  constructor(private readonly db: Db) {}

  write(claim: NewClaim): Promise<WrittenClaim | typeof WRITE_ALONE> {
    return new Promise((resolve) => {
      this.queue.push({ claim, resolve });
      this.flush();
    });
  }

  private flush() {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      this.writeBatch(batch)
        .catch(() => {
          for (const waiting of batch) waiting.resolve(WRITE_ALONE);
        })
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }

  private async writeBatch(batch: Waiting[]) {
    this.statements++;
    const rows = sql.join(
      batch.map(({ claim }) => {
        const reservedUntil = new Date(claim.now.getTime() + claim.reservationMs).toISOString();
        return sql`(${claim.claimId}, ${claim.dealId}, ${claim.userId}, ${claim.idempotencyKey},
                    ${claim.now.toISOString()}::timestamptz, ${reservedUntil}::timestamptz)`;
      }),
      sql`, `,
    );
    // The inserts and the `sold` counts are one statement: if any deal would pass its quantity
    // (the check constraint) the whole batch rolls back and its winners are written alone.
    const result = await this.db.execute(sql`
      WITH winner (id, deal_id, user_id, idempotency_key, now, reserved_until) AS (VALUES ${rows}),
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
    for (const { claim, resolve } of batch) {
      const row = written.get(claim.claimId);
      resolve(
        row
          ? {
              status: row.status,
              reservedUntil: row.reserved_until === null ? null : new Date(row.reserved_until),
            }
          : WRITE_ALONE,
      );
    }
  }
}

import "server-only";
import { sql } from "drizzle-orm";
import type { Logger } from "drizzle-orm/logger";
import { type DatabaseHandle, type Db, openReadOnlyDatabase, rowsOf } from "@/db/client";
import { log } from "../log";

/** Where the discovery reads went at the last check, and why. */
export interface ReplicaState {
  serving: "replica" | "primary";
  /** Milliseconds the replica was behind at the last check; null when it did not answer. */
  lagMs: number | null;
}

/**
 * Discovery and deal reads (deals.near, deals.byId, deals.list, the stock stream's deal check)
 * go to a streaming replica (DATABASE_READ_URL) while it keeps up, and to the primary when it
 * does not: never a write, which has no path here.
 *
 * Lag is measured by a check every `checkMs`, never per query: the primary's flushed WAL
 * position is read first, then the replica is asked whether it has replayed that far. If it
 * has, it is caught up (lag 0), however long ago the last commit was: an idle primary is not
 * a lagging replica. If not, the lag is the replica's clock minus the commit time of the last
 * transaction it replayed, so a replica paused (pg_wal_replay_pause) or cut off while the
 * primary writes falls behind by the time it has missed. Beyond `maxLagMs`, or unreachable,
 * the reads go to the primary until a check finds it back. A read that fails on the replica
 * between checks is asked of the primary at once, and the replica left until the next check.
 */
export class ReadReplica {
  private state: ReplicaState = { serving: "primary", lagMs: null };
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<ReplicaState> | undefined;
  private notStandbySaid = false;

  constructor(
    private readonly primary: Db,
    private readonly replica: DatabaseHandle | null,
    private readonly options: { maxLagMs: number; checkMs: number },
  ) {}

  /** A replica pool for `url`, checked once before it serves (and, with `background`, every checkMs). */
  static async open(
    primary: Db,
    url: string | undefined,
    options: { maxLagMs: number; background?: boolean; logger?: Logger },
  ): Promise<ReadReplica> {
    const checkMs = Math.max(100, Math.min(1_000, Math.floor(options.maxLagMs / 2)));
    if (!url) return ReadReplica.primaryOnly(primary);
    const replica = await openReadOnlyDatabase(url, { logger: options.logger });
    const reads = new ReadReplica(primary, replica, { maxLagMs: options.maxLagMs, checkMs });
    await reads.check();
    if (options.background) {
      reads.timer = setInterval(() => void reads.check(), checkMs);
      reads.timer.unref();
    }
    return reads;
  }

  /** Reads on the primary alone: no DATABASE_READ_URL. */
  static primaryOnly(primary: Db): ReadReplica {
    return new ReadReplica(primary, null, { maxLagMs: 0, checkMs: 0 });
  }

  get current(): ReplicaState {
    return this.state;
  }

  /** Runs a read on the replica while it keeps up, else (or if it fails there) on the primary. */
  async read<T>(query: (db: Db) => Promise<T>): Promise<T> {
    if (!this.replica || this.state.serving !== "replica") return query(this.primary);
    try {
      return await query(this.replica.db);
    } catch (error) {
      this.serve({ serving: "primary", lagMs: null }, error);
      return query(this.primary);
    }
  }

  /** Measures the lag now and routes the reads by it (the timer's work; tests call it). */
  check(): Promise<ReplicaState> {
    this.checking ??= this.measure().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    await this.replica?.close();
  }

  private async measure(): Promise<ReplicaState> {
    const replica = this.replica;
    if (!replica) return this.state;
    try {
      const [flushed] = rowsOf<{ lsn: string }>(
        await this.primary.execute(sql`SELECT pg_current_wal_flush_lsn()::text AS lsn`),
      );
      const [seen] = rowsOf<{
        standby: boolean;
        caughtUp: boolean | null;
        behindMs: number | null;
      }>(
        await replica.db.execute(sql`
          SELECT pg_is_in_recovery() AS standby,
                 pg_last_wal_replay_lsn() >= ${flushed?.lsn ?? "0/0"}::pg_lsn AS "caughtUp",
                 (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8
                   AS "behindMs"`),
      );
      if (!seen?.standby && !this.notStandbySaid) {
        // Another primary takes the reads fine, but it is not kept up to date by this one.
        log.warn("DATABASE_READ_URL names a server that is not a standby (pg_is_in_recovery)");
        this.notStandbySaid = true;
      }
      if (!seen?.standby) {
        this.serve({ serving: "replica", lagMs: 0 });
        return this.state;
      }
      const lagMs = seen.caughtUp ? 0 : Math.max(0, seen.behindMs ?? Number.POSITIVE_INFINITY);
      this.serve({ serving: lagMs <= this.options.maxLagMs ? "replica" : "primary", lagMs });
    } catch (error) {
      this.serve({ serving: "primary", lagMs: null }, error);
    }
    return this.state;
  }

  private serve(next: ReplicaState, why?: unknown): void {
    const changed = next.serving !== this.state.serving;
    this.state = next;
    if (!changed) return;
    if (next.serving === "primary") {
      log.warn(
        { lagMs: next.lagMs, maxLagMs: this.options.maxLagMs, err: why },
        next.lagMs === null
          ? "read replica unreachable: discovery reads go to the primary"
          : "read replica lags beyond DATABASE_READ_MAX_LAG_MS: discovery reads go to the primary",
      );
    } else {
      log.info({ lagMs: next.lagMs }, "read replica keeps up: discovery reads go to it");
    }
  }
}

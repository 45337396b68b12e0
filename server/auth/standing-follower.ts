import "server-only";
import { desc, gt, sql } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import type { AccountStandings } from "./account-standing";

/** Accounts read per pass: a mass change in SQL reaches the rest at the next passes. */
const PAGE = 1_000;

/**
 * Changes the app makes to an account publish at once (AccountStandings.changed). A change made
 * behind its back (psql, a script) publishes nothing, and the Redis copy of a standing lives as
 * long as a session. So each background sweep asks Postgres which accounts' standing_version
 * moved lately (the trigger stamps standing_changed_at) and re-publishes those it has not yet
 * pushed at that version: every process drops its copy within a sweep.
 */
export class StandingFollower {
  /** account → the standing_version this process last pushed. */
  private readonly pushed = new LRUCache<string, number>({ max: 10_000 });
  private firstPass = true;

  constructor(
    private readonly db: Db,
    private readonly standings: AccountStandings,
    private readonly options: {
      /** Looked back on every pass; covers a transaction that committed late. */
      windowMs: number;
      /** Looked back on the first pass: a change made while no process ran. */
      firstLookbackMs: number;
    },
  ) {}

  /** One pass; the number of accounts whose copies it dropped. */
  async follow(): Promise<number> {
    const lookbackMs = this.firstPass ? this.options.firstLookbackMs : this.options.windowMs;
    const changed = await this.db
      .select({ id: users.id, version: users.standingVersion })
      .from(users)
      .where(gt(users.standingChangedAt, sql`now() - ${lookbackMs} * interval '1 millisecond'`))
      .orderBy(desc(users.standingChangedAt))
      .limit(PAGE);
    let dropped = 0;
    for (const { id, version } of changed) {
      if (this.pushed.get(id) === version) continue;
      await this.standings.changed(id);
      this.pushed.set(id, version);
      dropped++;
    }
    this.firstPass = false;
    return dropped;
  }
}

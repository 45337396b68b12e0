import "server-only";
import { and, count, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { endedSessions, users } from "@/db/schema";
import type { AccountStandings, Standing } from "./account-standing";
import type { Session, SessionCodec } from "./session";

/** Sessions signed out one by one that an account keeps; one more ends them all instead. */
const MAX_ENDED_SESSIONS = 16;

/** Anything that runs statements: the database or a change's own transaction. */
type Executor = Pick<Db, "update" | "delete">;

/**
 * Ends every session of an account, inside the transaction of the change that calls for it
 * (a password, a role, deactivation). Call `Sessions.changed` after the commit.
 */
export async function endAllSessions(executor: Executor, userId: string) {
  await executor
    .update(users)
    .set({
      sessionGeneration: sql`${users.sessionGeneration} + 1`,
      standingVersion: sql`${users.standingVersion} + 1`,
    })
    .where(eq(users.id, userId));
  // Ended one by one under the old generation: the new one refuses them all already.
  await executor.delete(endedSessions).where(eq(endedSessions.userId, userId));
}

/** Whether the account still stands behind a session: the same generation, role and shop. */
function admits(standing: Standing | null, session: Session): boolean {
  return (
    standing?.active === true &&
    standing.generation === session.generation &&
    standing.role === session.role &&
    (standing.merchantId ?? undefined) === session.merchantId &&
    !standing.ended.includes(session.sessionId as string)
  );
}

/**
 * Sessions that the server can end. A token is an HMAC-signed cookie (SessionCodec) carrying
 * its own id and the account's session generation; reading one checks the signature, then the
 * account's standing (AccountStandings: a cached copy, no database read on a warm path). Tokens
 * issued before revocation existed carry neither and are refused: their holders sign in again.
 */
export class Sessions {
  constructor(
    private readonly codec: SessionCodec,
    private readonly standings: AccountStandings,
    private readonly db: Db,
    private readonly clock: () => Date,
  ) {}

  /** A token for a session, under the account's generation as Postgres has it now. */
  async issue(session: Session): Promise<string> {
    const standing = await this.standings.refresh(session.userId);
    if (!standing) throw new Error(`no account ${session.userId} to issue a session for`);
    return this.codec.issue({ ...session, sessionId: undefined, generation: standing.generation });
  }

  /** The session a token carries, if we issued it, it is unexpired and its account stands by it. */
  async read(token: string | undefined): Promise<Session | null> {
    const session = this.codec.read(token);
    if (!session || session.sessionId === undefined || session.generation === undefined) {
      return null;
    }
    const found = this.standings.get(session.userId);
    const standing = found instanceof Promise ? await found : found;
    return admits(standing, session) ? session : null;
  }

  /** Signs this one session out on every server. */
  async end(session: Session): Promise<void> {
    if (session.sessionId === undefined || session.generation === undefined) return;
    const { userId, sessionId, generation } = session;
    await this.db.transaction(async (tx) => {
      await tx
        .insert(endedSessions)
        .values({ sessionId, userId, generation, endedAt: this.clock() })
        .onConflictDoNothing();
      const [ended] = await tx
        .select({ n: count() })
        .from(endedSessions)
        .where(and(eq(endedSessions.userId, userId), eq(endedSessions.generation, generation)));
      // The list every check reads stays short: past it, sign-out ends them all.
      if ((ended?.n ?? 0) > MAX_ENDED_SESSIONS) await endAllSessions(tx, userId);
      else {
        await tx
          .update(users)
          .set({ standingVersion: sql`${users.standingVersion} + 1` })
          .where(eq(users.id, userId));
      }
    });
    await this.standings.changed(userId);
  }

  /** "Sign out everywhere": every session of the account, this one included. */
  async endAll(userId: string): Promise<void> {
    await this.db.transaction((tx) => endAllSessions(tx, userId));
    await this.standings.changed(userId);
  }

  /** After a change that ended an account's sessions has committed (endAllSessions). */
  changed(userId: string): Promise<void> {
    return this.standings.changed(userId);
  }

  cookie(token: string, secure: boolean): string {
    return this.codec.cookie(token, secure);
  }

  clearingCookie(secure: boolean): string {
    return this.codec.clearingCookie(secure);
  }
}

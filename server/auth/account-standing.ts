import "server-only";
import { eq, sql } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import type { Db } from "@/db/client";
import { endedSessions, users } from "@/db/schema";
import { duplicateForSubscribing, type RedisClient } from "../redis/client";
import { LuaScript } from "../redis/lua-script";

/** What a session check needs to know of its account: the parts a change can take away. */
export interface Standing {
  /** users.standing_version: orders copies, so an older one never replaces a newer. */
  v: number;
  generation: number;
  role: "shopper" | "merchant" | "admin";
  merchantId: string | null;
  active: boolean;
  /** Sessions of this generation signed out one by one (a handful: see Sessions.end). */
  ended: string[];
}

const keepNewer = new LuaScript("server/auth/lua/keep-newer-standing.lua");

export interface StandingOptions {
  /**
   * How long this process trusts its copy. Changes made through the app drop every process's
   * copy at once (pub/sub); this bounds what a lost message, or a change made in SQL behind the
   * app's back, can leave standing.
   */
  localTtlMs?: number;
  /** How long the Redis copy lives: a process missing its own reads it instead of Postgres. */
  sharedTtlMs?: number;
  /** Accounts this process keeps (bounded: a crowd of shoppers cannot grow it without end). */
  maxAccounts?: number;
}

/**
 * Each account's standing, as session checks read it on every request, the claim's among
 * them: from this process's LRU (no await on a hit), then the Redis copy, then Postgres, which
 * is the truth. A change (`changed`, after its commit) writes the new copy to Redis and tells
 * every process on the channel to drop its own; with no Redis (embedded, one process) it drops
 * the one copy there is.
 */
export class AccountStandings {
  private readonly local: LRUCache<string, Standing>;
  private readonly loading = new Map<string, Promise<Standing | null>>();
  private readonly subscriber: RedisClient | null;
  private readonly subscribed: Promise<unknown> | null;
  /** Moves on every drop: a load that saw one while it ran does not cache what it read. */
  private drops = 0;
  private readonly sharedTtlMs: number;
  private readonly dropListeners = new Set<(userId: string) => void>();

  constructor(
    /** Postgres's answer, the truth (readStanding). */
    private readonly fromDatabase: (userId: string) => Promise<Standing | null>,
    private readonly redis: RedisClient | null,
    private readonly keyPrefix: string,
    options: StandingOptions = {},
  ) {
    this.local = new LRUCache<string, Standing>({
      max: options.maxAccounts ?? 100_000,
      ttl: options.localTtlMs ?? 60_000,
    });
    this.sharedTtlMs = options.sharedTtlMs ?? 15 * 60_000;
    this.subscriber = redis ? duplicateForSubscribing(redis) : null;
    this.subscribed = this.subscriber?.subscribe(this.channel).catch(() => undefined) ?? null;
    this.subscriber?.on("message", (channel: string, userId: string) => {
      if (channel === this.channel) this.drop(userId);
    });
    // Messages sent while the subscriber was away are lost: drop everything it may have missed.
    this.subscriber?.on("ready", () => this.dropAll());
  }

  private get channel() {
    return `${this.keyPrefix}standing-changed`;
  }

  private key(userId: string) {
    return `${this.keyPrefix}standing:${userId}`;
  }

  /** The account's standing: a value when this process holds it, else a promise of it. */
  get(userId: string): Standing | null | Promise<Standing | null> {
    return this.local.get(userId) ?? this.fetch(userId);
  }

  /** Read from Postgres and written to every copy (at sign-in, and after a change). */
  async refresh(userId: string): Promise<Standing | null> {
    const drops = this.drops;
    const standing = await this.fromDatabase(userId);
    return standing && this.keep(userId, standing, drops);
  }

  /**
   * After a change to the account has committed: the new standing goes to Redis, and every
   * process (this one too) drops its copy, so the next request of any old session is checked
   * against it.
   */
  async changed(userId: string): Promise<void> {
    this.drop(userId);
    if (!this.redis) return;
    await this.refresh(userId);
    await this.redis.publish(this.channel, userId);
  }

  /** Resolves once this process hears changes made by others (tests; a start-up check). */
  async listening(): Promise<void> {
    await this.subscribed;
  }

  /** Called with each account whose copy this process drops (tests wait on it). */
  onDrop(listener: (userId: string) => void): () => void {
    this.dropListeners.add(listener);
    return () => this.dropListeners.delete(listener);
  }

  close() {
    this.subscriber?.disconnect();
  }

  private drop(userId: string) {
    this.drops++;
    this.local.delete(userId);
    for (const listener of this.dropListeners) listener(userId);
  }

  private dropAll() {
    this.drops++;
    this.local.clear();
  }

  /** One load per account at a time: a crowd's first claims share it. */
  private fetch(userId: string): Promise<Standing | null> {
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = this.load(userId).finally(() => this.loading.delete(userId));
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private async load(userId: string): Promise<Standing | null> {
    const drops = this.drops;
    if (this.redis) {
      const copy = await this.redis.get(this.key(userId));
      if (copy) return this.cacheLocally(userId, JSON.parse(copy) as Standing, drops);
    }
    const standing = await this.fromDatabase(userId);
    return standing && this.keep(userId, standing, drops);
  }

  private async keep(userId: string, standing: Standing, drops: number): Promise<Standing> {
    if (!this.redis) return this.cacheLocally(userId, standing, drops);
    const stands = await keepNewer.run(
      this.redis,
      [this.key(userId)],
      [standing.v, JSON.stringify(standing), this.sharedTtlMs],
    );
    return this.cacheLocally(userId, JSON.parse(String(stands)) as Standing, drops);
  }

  /** Cached only if no drop happened while it was read: that drop may have been of this copy. */
  private cacheLocally(userId: string, standing: Standing, drops: number): Standing {
    if (drops === this.drops) this.local.set(userId, standing);
    return standing;
  }
}

/** An account's standing as Postgres has it now. */
export async function readStanding(db: Db, userId: string): Promise<Standing | null> {
  const [row] = await db
    .select({
      v: users.standingVersion,
      generation: users.sessionGeneration,
      role: users.role,
      merchantId: users.merchantId,
      deactivatedAt: users.deactivatedAt,
      // As text, split below: drizzle hands a raw select's array back as Postgres's literal
      // ("{a,b}") on postgres.js, and text arrives the same on postgres.js and PGlite.
      ended: sql<string | null>`(select string_agg(${endedSessions.sessionId}, ' ')
        from ${endedSessions} where ${endedSessions.userId} = ${users.id}
        and ${endedSessions.generation} = ${users.sessionGeneration})`,
    })
    .from(users)
    .where(eq(users.id, userId));
  if (!row) return null;
  const { deactivatedAt, ended, ...rest } = row;
  return { ...rest, active: deactivatedAt === null, ended: ended ? ended.split(" ") : [] };
}

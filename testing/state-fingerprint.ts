import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import { mastersOf, type RedisClient } from "@/server/redis/client";

/**
 * Redis keys that change without any state changing: rate-limit windows (every refused
 * sign-in or claim counts), read-through cache copies (2 s, filled by reads) and the sale
 * monitor's per-second claim statistics (telemetry of attempts, refused ones included).
 */
const VOLATILE_KEY = /^(rl:|cache:\d+:|\{deal:[^}]*\}:monitor:)/;
/**
 * Columns stamped by a call that is let in, whatever its input: a device's last contact is
 * written when its credential is checked, before the procedure reads its input.
 */
const IGNORED_COLUMNS: Record<string, string> = { merchant_devices: "last_seen_at" };
const GATE_META_KEY = /^\{deal:[^}]*\}:meta$/;

/** The gate loader's short-lived note that a deal does not exist, so claims for it skip Postgres. */
async function isMissingDealNote(redis: RedisClient, key: string): Promise<boolean> {
  const [fields, ttl] = await Promise.all([redis.hgetall(key), redis.pttl(key)]);
  return ttl > 0 && Object.keys(fields).length === 1 && fields.state === "missing";
}

/**
 * Every table's row count and a checksum of its rows, and every lasting Redis key under
 * `prefix` with a checksum of its value: two equal fingerprints mean nothing was written.
 * Tables are listed from the catalogue, so a new table is covered without a change here.
 */
export async function fingerprintState(db: Db, redis: RedisClient | null, prefix: string) {
  const tables = rowsOf<{ name: string }>(
    await db.execute(sql`SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`),
  );
  const state: Record<string, string> = {};
  for (const { name } of tables) {
    const ignored = `{${IGNORED_COLUMNS[name] ?? ""}}`;
    const [row] = rowsOf<{ rows: number; sum: string }>(
      await db.execute(
        sql`SELECT count(*)::int AS rows,
          md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS sum
          FROM (SELECT (to_jsonb(t) - ${ignored}::text[])::text AS r
                FROM ${sql.identifier(name)} t) rows`,
      ),
    );
    state[`table ${name}`] = `${row?.rows} rows, ${row?.sum}`;
  }
  // KEYS answers for one node only: on a Cluster, ask every master.
  const masters = redis ? mastersOf(redis) : [];
  const keys = (await Promise.all(masters.map((node) => node.keys(`${prefix}*`)))).flat();
  for (const key of keys) {
    const name = key.slice(prefix.length);
    if (VOLATILE_KEY.test(name)) continue;
    if (redis && GATE_META_KEY.test(name) && (await isMissingDealNote(redis, key))) continue;
    const dump = await redis?.dumpBuffer(key);
    // Gone between KEYS and DUMP: it had a time to live (a missing-deal note, a window), so
    // it was never lasting state. Counting it as "gone" made a busy run see a change.
    if (!dump) continue;
    state[`redis ${name}`] = dump.toString("base64");
  }
  return state;
}

import "server-only";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Logger } from "drizzle-orm/logger";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Db;
  close(): Promise<void>;
  /**
   * Runs `work` while no other process runs its own `oneAtATime` work on this database: for
   * start-up steps that create what is missing (migrations, secrets, demo data), which
   * processes starting together (a claim server's workers) would otherwise all do at once.
   */
  oneAtATime<T>(work: () => Promise<T>): Promise<T>;
}

const CONNECT_TIMEOUT_S = 5;
const MAX_BACKOFF_S = 1;

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

/**
 * One code path, two engines: postgres.js when a URL is given, else PGlite in a data folder
 * (or in memory for `memory://`). PGlite is a single connection, so open it once per process.
 * `logger` sees every statement; the app passes none, test harnesses their query counter.
 */
export async function openDatabase(options: {
  url?: string;
  dataDir?: string;
  poolSize?: number;
  logger?: Logger;
}): Promise<DatabaseHandle> {
  if (options.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    const client = postgres(options.url, poolOptions(options.poolSize ?? 20, "dealdrop"));
    const db = drizzle(client, { schema, logger: options.logger });
    const url = options.url;
    const handle: DatabaseHandle = {
      db: db as unknown as Db,
      close: () => client.end({ timeout: 5 }),
      oneAtATime: (work) => underStartupLock(postgres, url, work),
    };
    await handle.oneAtATime(() => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }));
    return handle;
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dataDir = options.dataDir ?? "memory://";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzle(client, { schema, logger: options.logger });
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  // One process per data folder (see above): nobody to take turns with.
  return { db: db as unknown as Db, close: () => client.close(), oneAtATime: (work) => work() };
}

/**
 * The pool's settings for a server (postgres.js). When Postgres is away, a query should fail
 * within seconds, and the pool should try again soon after it is back. postgres.js's defaults
 * wait 30 s for a connection and back off up to 20 s between attempts, which held claims for
 * ~20 s and kept them failing long after Postgres returned (server/faults/postgres-faults.test.ts).
 */
function poolOptions(max: number, applicationName: string) {
  return {
    max,
    connect_timeout: CONNECT_TIMEOUT_S,
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, MAX_BACKOFF_S),
    // The array types it would fetch on first connect are not used here, and that fetch
    // failed as an unhandled rejection when the first connection was cut.
    fetch_types: false,
    onnotice: () => {},
    connection: { statement_timeout: 10_000, application_name: applicationName },
  };
}

/**
 * A pool on a read replica (DATABASE_READ_URL): no migrations (a standby cannot write; it
 * has the primary's schema by replication), its connections named `dealdrop-read` in
 * pg_stat_activity. Used through server/deals/read-replica.ts only.
 */
export async function openReadOnlyDatabase(
  url: string,
  options: { poolSize?: number; logger?: Logger } = {},
): Promise<DatabaseHandle> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const client = postgres(url, poolOptions(options.poolSize ?? 10, "dealdrop-read"));
  const db = drizzle(client, { schema, logger: options.logger }) as unknown as Db;
  return {
    db,
    close: () => client.end({ timeout: 5 }),
    oneAtATime: () => Promise.reject(new Error("a read replica runs no start-up work")),
  };
}

/**
 * `oneAtATime` on Postgres: a session advisory lock, held on a connection of its own. On an
 * empty database, processes starting together each created the migrations table and all but
 * one failed on a duplicate key; under the lock the later ones find nothing left to do. A
 * process that dies lets go with its connection.
 */
async function underStartupLock<T>(
  postgres: typeof import("postgres"),
  url: string,
  work: () => Promise<T>,
): Promise<T> {
  const lockHolder = postgres(url, {
    max: 1,
    connect_timeout: CONNECT_TIMEOUT_S,
    onnotice: () => {},
  });
  try {
    await lockHolder`SELECT pg_advisory_lock(hashtext('dealdrop start-up'))`;
    return await work();
  } finally {
    await lockHolder.end({ timeout: 5 });
  }
}

/** Rows of a `db.execute` result: postgres.js answers an array, PGlite an object with rows. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Postgres error code of a failure, looking through drizzle's wrapping. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

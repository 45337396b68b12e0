import type { Logger } from "drizzle-orm/logger";
import postgres from "postgres";
import { type DatabaseHandle, openDatabase } from "./client";

export interface EmptyDatabase {
  name: string;
  url: string;
  /** Drops the database, ending any connection still open to it; safe after a failed run. */
  drop(): Promise<void>;
}

export interface ScratchDatabase extends DatabaseHandle, EmptyDatabase {
  /** Closes the pool and drops the database; safe to call after a failed run. */
  drop(): Promise<void>;
}

/** A new database on a real Postgres server with nothing in it, not even the migrations. */
export async function createEmptyDatabase(options: {
  adminUrl: string;
  name: string;
}): Promise<EmptyDatabase> {
  const admin = postgres(options.adminUrl, { max: 1, onnotice: () => {} });
  const quoted = `"${options.name.replaceAll('"', '""')}"`;
  const url = new URL(options.adminUrl);
  url.pathname = `/${options.name}`;
  const drop = async () => {
    // FORCE ends connections an abandoned attempt may still hold.
    await admin.unsafe(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  };
  try {
    await admin.unsafe(`CREATE DATABASE ${quoted}`);
  } catch (error) {
    await admin.end({ timeout: 5 }).catch(() => undefined);
    throw error;
  }
  return { name: options.name, url: url.toString(), drop };
}

/**
 * A throw-away, migrated database on a real Postgres server, for a test file or a benchmark
 * run: nothing is shared with the app or an earlier run, and nothing is left behind.
 */
export async function createScratchDatabase(options: {
  adminUrl: string;
  name: string;
  poolSize: number;
  logger?: Logger;
}): Promise<ScratchDatabase> {
  const empty = await createEmptyDatabase(options);
  let handle: DatabaseHandle | undefined;
  const drop = async () => {
    await handle?.close().catch(() => undefined);
    await empty.drop();
  };
  try {
    handle = await openDatabase({
      url: empty.url,
      poolSize: options.poolSize,
      logger: options.logger,
    });
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  return { ...handle, name: empty.name, url: empty.url, drop };
}

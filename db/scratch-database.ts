import postgres from "postgres";
import { type DatabaseHandle, openDatabase } from "./client";

export interface ScratchDatabase extends DatabaseHandle {
  name: string;
  url: string;
  /** Closes the pool and drops the database; safe to call after a failed run. */
  drop(): Promise<void>;
}

/**
 * A throw-away, migrated database on a real Postgres server, for a test file or a benchmark
 * run: nothing is shared with the app or an earlier run, and nothing is left behind.
 */
export async function createScratchDatabase(options: {
  adminUrl: string;
  name: string;
  poolSize: number;
}): Promise<ScratchDatabase> {
  const admin = postgres(options.adminUrl, { max: 1, onnotice: () => {} });
  const quoted = `"${options.name.replaceAll('"', '""')}"`;
  const url = new URL(options.adminUrl);
  url.pathname = `/${options.name}`;
  let handle: DatabaseHandle | undefined;
  const drop = async () => {
    await handle?.close().catch(() => undefined);
    // FORCE ends connections an abandoned attempt may still hold.
    await admin.unsafe(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  };
  try {
    await admin.unsafe(`CREATE DATABASE ${quoted}`);
    handle = await openDatabase({ url: url.toString(), poolSize: options.poolSize });
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  return { ...handle, name: options.name, url: url.toString(), drop };
}

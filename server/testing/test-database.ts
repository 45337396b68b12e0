import postgres from "postgres";
import { createScratchDatabase, type ScratchDatabase } from "@/db/scratch-database";
import { newId } from "@/lib/ids";

export const ADMIN_DATABASE_URL =
  process.env.TEST_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type TestDatabase = ScratchDatabase;

/** A fresh, migrated database on the real Postgres server, dropped when the tests end. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase({
    adminUrl: ADMIN_DATABASE_URL,
    name: `dealdrop_test_${newId().toLowerCase()}`,
    poolSize: 30,
  });
}

export interface EmptyDatabase {
  url: string;
  /** Drops it, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** A fresh database with nothing in it, not even migrations: for tests of start-up. */
export async function createEmptyDatabase(): Promise<EmptyDatabase> {
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  const name = `dealdrop_test_empty_${newId().toLowerCase()}`;
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}

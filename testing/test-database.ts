import {
  createEmptyDatabase,
  createScratchDatabase,
  type EmptyDatabase,
  type ScratchDatabase,
} from "@/db/scratch-database";
import { newId } from "@/lib/ids";
import { countingLogger } from "./query-count";

export const ADMIN_DATABASE_URL =
  process.env.TEST_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type TestDatabase = ScratchDatabase;

/** A fresh, migrated database on the real Postgres server, dropped when the tests end. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase({
    adminUrl: ADMIN_DATABASE_URL,
    name: `dealdrop_test_${newId().toLowerCase()}`,
    poolSize: 30,
    logger: countingLogger,
  });
}

/** A fresh database with nothing in it, not even migrations: for tests of start-up. */
export function createEmptyTestDatabase(): Promise<EmptyDatabase> {
  return createEmptyDatabase({
    adminUrl: ADMIN_DATABASE_URL,
    name: `dealdrop_test_empty_${newId().toLowerCase()}`,
  });
}

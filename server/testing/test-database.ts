import postgres from "postgres";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { newId } from "@/lib/ids";

export const ADMIN_DATABASE_URL =
  process.env.TEST_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase extends DatabaseHandle {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the real Postgres server, dropped when the tests end. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `dealdrop_test_${newId().toLowerCase()}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), poolSize: 30 });
  return {
    ...handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { ADMIN_DATABASE_URL } from "@/server/testing/test-database";
import { type DatabaseHandle, openDatabase, rowsOf } from "./client";

const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
const name = `dealdrop_test_fresh_${newId().toLowerCase()}`;
const opened: DatabaseHandle[] = [];

afterAll(async () => {
  await Promise.all(opened.map((handle) => handle.close()));
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end({ timeout: 5 });
});

describe("openDatabase on Postgres", () => {
  it("lets processes that start together on an empty database migrate it one at a time", async () => {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/${name}`;
    // A claim server's workers start at once; each used to create the migrations table, and
    // all but one failed on a duplicate key.
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => openDatabase({ url: url.toString(), poolSize: 5 })),
    );
    for (const result of results) if (result.status === "fulfilled") opened.push(result.value);
    expect(results.map((result) => result.status)).toEqual(Array(4).fill("fulfilled"));
    // Each migration was applied once.
    const [migrated] = rowsOf<{ applied: number; distinct: number }>(
      await opened[0]?.db.execute(
        sql`SELECT count(*)::int AS applied, count(DISTINCT hash)::int AS distinct
            FROM drizzle.__drizzle_migrations`,
      ),
    );
    expect(migrated?.applied).toBeGreaterThan(0);
    expect(migrated?.applied).toBe(migrated?.distinct);
  });
});

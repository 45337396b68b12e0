import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmptyTestDatabase } from "@/testing/test-database";
import { type DatabaseHandle, openDatabase, rowsOf } from "./client";
import type { EmptyDatabase } from "./scratch-database";

const opened: DatabaseHandle[] = [];
let empty: EmptyDatabase;

beforeAll(async () => {
  empty = await createEmptyTestDatabase();
});

afterAll(async () => {
  await Promise.all(opened.map((handle) => handle.close()));
  await empty?.drop();
});

describe("openDatabase on Postgres", () => {
  it("lets processes that start together on an empty database migrate it one at a time", async () => {
    // A claim server's workers start at once; each used to create the migrations table, and
    // all but one failed on a duplicate key.
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => openDatabase({ url: empty.url, poolSize: 5 })),
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

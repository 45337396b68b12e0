import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmptyDatabase } from "@/db/scratch-database";
import { createEmptyTestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "./env";

const started: Services[] = [];
let empty: EmptyDatabase;

beforeAll(async () => {
  empty = await createEmptyTestDatabase();
});

afterAll(async () => {
  await Promise.all(started.map((services) => services.stop()));
  await empty?.drop();
});

describe("services starting together on an empty database", () => {
  it("migrate, make the secrets and the first signing key, and seed the demo once", async () => {
    const env = parseEnv({ NODE_ENV: "test", DATABASE_URL: empty.url, DEMO_SEED: "on" });
    // A claim server's workers start at once. Each used to seed the demo city: merchants
    // twice, then a duplicate key on the users, and the server stopped.
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => createServices(env)));
    for (const result of results) if (result.status === "fulfilled") started.push(result.value);
    expect(results.map((result) => result.status)).toEqual(Array(3).fill("fulfilled"));
    expect(started.filter((services) => services.demoSeeded)).toHaveLength(1);

    const check = postgres(empty.url, { max: 1, onnotice: () => {} });
    const [counts] = await check`
      SELECT (SELECT count(*)::int FROM merchants) AS merchants,
             (SELECT count(*)::int FROM app_settings WHERE key = 'secret:session') AS secrets,
             (SELECT count(*)::int FROM signing_keys WHERE status = 'active') AS "activeKeys"`;
    await check.end();
    expect(counts).toEqual({ merchants: 2, secrets: 1, activeKeys: 1 });
  }, 60_000);
});

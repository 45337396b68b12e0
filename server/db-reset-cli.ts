import "./load-env";
import { rmSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "@/db/client";
import { DEMO_ACCOUNTS, seedDemo } from "@/db/seed";
import { hashPassword } from "./auth/password";
import { EnvError, parseEnv } from "./env";

/**
 * `npm run db:reset`: a fresh demo. Empties the configured database (the embedded data folder,
 * or, for a Postgres demo asked for with DEMO_SEED=on, every table), applies the migrations and
 * seeds the demo city with its sales starting now. Stop the server first: PGlite does not notice
 * a second process in its folder.
 */
async function main() {
  const env = parseEnv();
  const dataDir = path.resolve(env.DATA_DIR, "pglite");
  if (env.DATABASE_URL) {
    if (env.DEMO_SEED !== "on") {
      throw new Error(
        "db:reset empties the database DATABASE_URL names, so it runs only on a demo database: set DEMO_SEED=on to say this one is",
      );
    }
    const { default: postgres } = await import("postgres");
    const admin = postgres(env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(
      "DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public",
    );
    await admin.end();
  } else {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir });
  const seeded = await seedDemo(database.db, hashPassword);
  await database.close();
  console.log(
    `${env.DATABASE_URL ? "The Postgres demo database" : dataDir} is reset${seeded ? ", the demo city seeded with its sales starting now" : ""}. Admin: ${DEMO_ACCOUNTS.admin}, password ${DEMO_ACCOUNTS.password}.`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError || error instanceof Error ? error.message : error);
  process.exit(1);
});

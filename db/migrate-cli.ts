import "@/server/load-env";
import path from "node:path";
import { describeMode, parseEnv } from "@/server/env";
import { openDatabase } from "./client";

// Opening the database applies every pending migration; this script does only that.
const env = parseEnv();
const database = await openDatabase({
  url: env.DATABASE_URL,
  dataDir: path.resolve(env.DATA_DIR, "pglite"),
});
await database.close();
console.log(`Migrations applied (${describeMode(env)}).`);

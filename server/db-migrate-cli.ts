import "./load-env";
import path from "node:path";
import { openDatabase } from "@/db/client";
import { describeMode, parseEnv } from "./env";

// Opening the database applies every pending migration; this script does only that.
const env = parseEnv();
const database = await openDatabase({
  url: env.DATABASE_URL,
  dataDir: path.resolve(env.DATA_DIR, "pglite"),
});
await database.close();
console.log(`Migrations applied (${describeMode(env)}).`);

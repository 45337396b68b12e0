import "./load-env";
import path from "node:path";
import { openDatabase } from "@/db/client";
import { DEMO_ACCOUNTS, seedDemo } from "@/db/seed";
import { hashPassword } from "./auth/password";
import { parseEnv } from "./env";

const env = parseEnv();
const database = await openDatabase({
  url: env.DATABASE_URL,
  dataDir: path.resolve(env.DATA_DIR, "pglite"),
});
const seeded = await seedDemo(database.db, hashPassword);
await database.close();
console.log(
  seeded
    ? `Demo data seeded. Accounts: ${DEMO_ACCOUNTS.admin}, ${[...DEMO_ACCOUNTS.merchantStaff, ...DEMO_ACCOUNTS.shoppers].join(", ")}; password ${DEMO_ACCOUNTS.password}.`
    : "The database already has users; nothing seeded.",
);

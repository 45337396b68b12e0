import "server-only";
import { inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import type { Env } from "../env";

/**
 * Whether start-up seeds the demo city into an empty database. The demo's admin has a
 * published password, so a database named by DATABASE_URL is seeded only when asked for
 * (`DEMO_SEED=on`): `auto`, the default, seeded an empty production database and its admin
 * could sign in with `dealdrop-demo`.
 */
export function demoSeedWanted(env: Pick<Env, "DEMO_SEED" | "DATABASE_URL">): boolean {
  return env.DEMO_SEED === "on" || (env.DEMO_SEED === "auto" && !env.DATABASE_URL);
}

const DEMO_EMAILS = [
  DEMO_ACCOUNTS.admin,
  ...DEMO_ACCOUNTS.merchantStaff,
  ...DEMO_ACCOUNTS.shoppers,
];

/** The demo accounts a database holds, found by email. */
export async function demoAccountsIn(db: Db): Promise<string[]> {
  const rows = await db
    .select({ email: users.email })
    .from(users)
    .where(inArray(users.email, DEMO_EMAILS));
  return rows.map((row) => row.email).sort();
}

/** Said at every start of a Postgres deployment that still has demo accounts. */
export function demoAccountsWarning(emails: string[]): string {
  return (
    `This database has demo accounts, seeded with the published password '${DEMO_ACCOUNTS.password}': ` +
    `${emails.join(", ")}. Anyone can sign in as them. Unless this is a demo, delete them ` +
    "(create a real admin first: npm run admin:create)."
  );
}

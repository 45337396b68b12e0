import "server-only";
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { appSettings } from "@/db/schema";

/**
 * A secret from the environment, or else one generated on first start and kept in the
 * database so that every instance and every restart share it. The second is for embedded
 * and demo use; start-up warns when it happens.
 */
export async function resolveSecret(
  db: Db,
  name: string,
  fromEnv: string | undefined,
): Promise<{ value: string; source: "env" | "database" | "generated" }> {
  if (fromEnv) return { value: fromEnv, source: "env" };
  const key = `secret:${name}`;
  const inserted = await db
    .insert(appSettings)
    .values({ key, value: randomBytes(48).toString("base64url") })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { value: inserted[0].value, source: "generated" };
  const [stored] = await db.select().from(appSettings).where(eq(appSettings.key, key));
  if (!stored) throw new Error(`secret ${name} vanished while it was being read`);
  return { value: stored.value, source: "database" };
}

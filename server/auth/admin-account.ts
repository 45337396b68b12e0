import "server-only";
import { z } from "zod";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { storableText } from "@/lib/storable-input";
import { recordAudit } from "../audit/audit-log";
import { DomainError } from "../errors";
import { emailSchema, passwordSchema } from "./auth-service";
import { hashPassword } from "./password";

export const newAdminInput = z.object({
  email: emailSchema,
  displayName: storableText({ min: [1, "name is required"], max: [80, "name is too long"] }),
  password: passwordSchema,
});

/**
 * An admin account, made from the command line (`npm run admin:create`): how a real
 * deployment gets its first admin, since nothing else makes one and the demo seed is off.
 * An email that already has an account is refused, never promoted.
 */
export async function createAdmin(db: Db, input: z.input<typeof newAdminInput>, now = new Date()) {
  const parsed = newAdminInput.safeParse(input);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new DomainError("INVALID_INPUT", `${issue?.path.join(".")}: ${issue?.message}`);
  }
  const { email, displayName, password } = parsed.data;
  const admin = { userId: newId(), role: "admin" as const, displayName };
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    const [made] = await tx
      .insert(users)
      .values({ id: admin.userId, email, displayName, passwordHash, role: "admin", createdAt: now })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id });
    if (!made)
      throw new DomainError("EMAIL_TAKEN", `An account with the email ${email} already exists.`);
    await recordAudit(
      tx,
      admin,
      {
        action: "account.create-admin",
        targetType: "account",
        targetId: admin.userId,
        merchantId: null,
        details: { email, via: "command line" },
      },
      now,
    );
  });
  return { userId: admin.userId, email };
}

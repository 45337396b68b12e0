import "server-only";
import { and, asc, eq, ilike, isNotNull, isNull, or } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { merchants, users } from "@/db/schema";
import { idSchema } from "@/lib/ids";
import { recordAudit } from "../audit/audit-log";
import { DomainError } from "../errors";
import type { Actor } from "./actor";
import { endAllSessions, type Sessions } from "./sessions";

export const accountSearchInput = z.object({
  search: z.string().trim().max(254, "search is too long").default(""),
});

export const roleChangeInput = z.discriminatedUnion("role", [
  z.object({ role: z.literal("shopper") }),
  z.object({ role: z.literal("admin") }),
  z.object({ role: z.literal("merchant"), merchantId: idSchema }),
]);

const PAGE = 100;

/** LIKE's own characters, taken literally in a search. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * What admins do to accounts. Each change ends the account's sessions in its own transaction
 * (endAllSessions) and every server drops its copy of the account's standing after the commit,
 * so the person's next request, on any server, is refused.
 */
export class AccountAdmin {
  constructor(
    private readonly db: Db,
    private readonly sessions: Sessions,
    private readonly clock: () => Date,
  ) {}

  /** Accounts whose email or name contains `search`, by email, a page of them. */
  async list(search: string) {
    const pattern = likePattern(search);
    return this.db
      .select({
        userId: users.id,
        email: users.email,
        displayName: users.displayName,
        role: users.role,
        merchantId: users.merchantId,
        merchantName: merchants.name,
        createdAt: users.createdAt,
        deactivatedAt: users.deactivatedAt,
      })
      .from(users)
      .leftJoin(merchants, eq(merchants.id, users.merchantId))
      .where(
        search ? or(ilike(users.email, pattern), ilike(users.displayName, pattern)) : undefined,
      )
      .orderBy(asc(users.email))
      .limit(PAGE);
  }

  async deactivate(actor: Actor, userId: string) {
    return this.setActive(actor, userId, false);
  }

  async reactivate(actor: Actor, userId: string) {
    return this.setActive(actor, userId, true);
  }

  /** A new role (and shop, for staff); the account's sessions end, to start again as that role. */
  async changeRole(actor: Actor, userId: string, change: z.infer<typeof roleChangeInput>) {
    this.refuseSelf(actor, userId, "change your own role");
    const merchantId = change.role === "merchant" ? change.merchantId : null;
    const now = this.clock();
    await this.db.transaction(async (tx) => {
      if (merchantId) {
        const [shop] = await tx
          .select({ id: merchants.id })
          .from(merchants)
          .where(eq(merchants.id, merchantId));
        if (!shop) throw new DomainError("NOT_FOUND", "No merchant with this id.", { merchantId });
      }
      const before = await this.account(tx, userId);
      await tx.update(users).set({ role: change.role, merchantId }).where(eq(users.id, userId));
      await endAllSessions(tx, userId);
      await recordAudit(
        tx,
        actor,
        {
          action: "account.role",
          targetType: "account",
          targetId: userId,
          merchantId: before.merchantId ?? merchantId,
          details: {
            email: before.email,
            from: { role: before.role, merchantId: before.merchantId },
            to: { role: change.role, merchantId },
          },
        },
        now,
      );
    });
    await this.sessions.changed(userId);
    return { userId, role: change.role, merchantId };
  }

  private async setActive(actor: Actor, userId: string, active: boolean) {
    this.refuseSelf(actor, userId, active ? "reactivate yourself" : "deactivate your own account");
    const now = this.clock();
    const changed = await this.db.transaction(async (tx) => {
      const account = await this.account(tx, userId);
      const [row] = await tx
        .update(users)
        .set({ deactivatedAt: active ? null : now })
        .where(
          and(
            eq(users.id, userId),
            active ? isNotNull(users.deactivatedAt) : isNull(users.deactivatedAt),
          ),
        )
        .returning({ deactivatedAt: users.deactivatedAt });
      if (!row) return { deactivatedAt: account.deactivatedAt, changed: false };
      await endAllSessions(tx, userId);
      await recordAudit(
        tx,
        actor,
        {
          action: active ? "account.reactivate" : "account.deactivate",
          targetType: "account",
          targetId: userId,
          merchantId: account.merchantId,
          details: { email: account.email },
        },
        now,
      );
      return { deactivatedAt: row.deactivatedAt, changed: true };
    });
    if (changed.changed) await this.sessions.changed(userId);
    return { userId, deactivatedAt: changed.deactivatedAt };
  }

  private async account(tx: Pick<Db, "select">, userId: string) {
    const [account] = await tx
      .select({
        email: users.email,
        role: users.role,
        merchantId: users.merchantId,
        deactivatedAt: users.deactivatedAt,
      })
      .from(users)
      .where(eq(users.id, userId));
    if (!account) throw new DomainError("NOT_FOUND", "No account with this id.", { userId });
    return account;
  }

  /** An admin locking themself out leaves a deployment with no admin: another admin does it. */
  private refuseSelf(actor: Actor, userId: string, what: string) {
    if (actor.userId === userId) {
      throw new DomainError("INVALID_STATE", `You cannot ${what}; ask another admin.`);
    }
  }
}

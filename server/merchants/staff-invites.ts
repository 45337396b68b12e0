import "server-only";
import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { type Db, pgErrorCode } from "@/db/client";
import { merchants, staffInvites, users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { recordAudit } from "../audit/audit-log";
import type { Actor } from "../auth/actor";
import { hashPassword } from "../auth/password";
import { hashSecret } from "../auth/secret-hash";
import type { Session } from "../auth/session";
import { DomainError } from "../errors";

const INVITE_TTL_MS = 7 * 24 * 3_600_000;

/**
 * Staff accounts come by invitation: an admin names the person and their email, and gets a
 * one-time link to hand over (the app sends no email). Opening it, the person sets their own
 * password; the link then stops working. Only the token's hash is stored.
 */
export class StaffInvites {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async invite(actor: Actor, merchantId: string, person: { email: string; displayName: string }) {
    const now = this.clock();
    const token = randomBytes(24).toString("base64url");
    const inviteId = newId();
    const expiresAt = new Date(now.getTime() + INVITE_TTL_MS);
    await this.db.transaction(async (tx) => {
      const [merchant] = await tx
        .select({ id: merchants.id })
        .from(merchants)
        .where(eq(merchants.id, merchantId));
      if (!merchant) throw new DomainError("NOT_FOUND", "No merchant has this id.", { merchantId });
      const [taken] = await tx
        .select({ id: users.id })
        .from(users)
        .where(eq(users.email, person.email));
      if (taken) throw new DomainError("EMAIL_TAKEN", "An account with this email already exists.");
      await tx.insert(staffInvites).values({
        id: inviteId,
        merchantId,
        email: person.email,
        displayName: person.displayName,
        tokenHash: hashSecret(token),
        invitedBy: actor.userId,
        createdAt: now,
        expiresAt,
      });
      await recordAudit(
        tx,
        actor,
        {
          action: "staff.invite",
          targetType: "staff",
          targetId: inviteId,
          merchantId,
          details: { email: person.email, displayName: person.displayName },
        },
        now,
      );
    });
    return { inviteId, email: person.email, expiresAt, invitePath: `/invite/${token}` };
  }

  /** What the invitation page shows before the person sets a password. */
  async describe(token: string) {
    const invite = await this.openInvite(token);
    return {
      email: invite.email,
      displayName: invite.displayName,
      merchantName: invite.merchantName,
      expiresAt: invite.expiresAt,
    };
  }

  /**
   * Withdraws an invitation that has not been used: its link is refused from now on, with
   * INVITE_REVOKED. Withdrawing one twice is answered as the first time; a used one is
   * refused (the account it made is deactivated instead).
   */
  async revoke(actor: Actor, inviteId: string) {
    const now = this.clock();
    return this.db.transaction(async (tx) => {
      const [invite] = await tx
        .select()
        .from(staffInvites)
        .where(eq(staffInvites.id, inviteId))
        .for("update");
      if (!invite) throw new DomainError("NOT_FOUND", "No invitation has this id.", { inviteId });
      if (invite.revokedAt) return { inviteId, revokedAt: invite.revokedAt };
      if (invite.acceptedAt) {
        throw new DomainError(
          "INVALID_STATE",
          "This invitation was already used: deactivate the account it made instead.",
        );
      }
      await tx
        .update(staffInvites)
        .set({ revokedAt: now, revokedBy: actor.userId })
        .where(eq(staffInvites.id, inviteId));
      await recordAudit(
        tx,
        actor,
        {
          action: "staff.revoke-invite",
          targetType: "staff",
          targetId: inviteId,
          merchantId: invite.merchantId,
          details: { email: invite.email, displayName: invite.displayName },
        },
        now,
      );
      return { inviteId, revokedAt: now };
    });
  }

  /** Creates the staff account and uses the invitation up; returns the new session. */
  async accept(token: string, password: string): Promise<Session> {
    const invite = await this.openInvite(token);
    const now = this.clock();
    const userId = newId();
    const passwordHash = await hashPassword(password);
    try {
      await this.db.transaction(async (tx) => {
        const [used] = await tx
          .update(staffInvites)
          .set({ acceptedAt: now })
          .where(
            and(
              eq(staffInvites.id, invite.id),
              isNull(staffInvites.acceptedAt),
              isNull(staffInvites.revokedAt),
            ),
          )
          .returning({ id: staffInvites.id });
        // Used, or withdrawn since it was opened: read again to say which.
        if (!used) {
          const [since] = await tx
            .select({ revokedAt: staffInvites.revokedAt })
            .from(staffInvites)
            .where(eq(staffInvites.id, invite.id));
          throw since?.revokedAt ? withdrawn(since.revokedAt) : usedUp();
        }
        await tx.insert(users).values({
          id: userId,
          email: invite.email,
          displayName: invite.displayName,
          passwordHash,
          role: "merchant",
          merchantId: invite.merchantId,
          createdAt: now,
        });
        const self: Actor = {
          userId,
          role: "merchant",
          merchantId: invite.merchantId,
          displayName: invite.displayName,
        };
        await recordAudit(
          tx,
          self,
          {
            action: "staff.join",
            targetType: "staff",
            targetId: userId,
            merchantId: invite.merchantId,
            details: { email: invite.email, inviteId: invite.id },
          },
          now,
        );
      });
    } catch (error) {
      if (pgErrorCode(error) === "23505") {
        throw new DomainError("EMAIL_TAKEN", "An account with this email already exists.");
      }
      throw error;
    }
    return {
      userId,
      role: "merchant",
      merchantId: invite.merchantId,
      displayName: invite.displayName,
    };
  }

  private async openInvite(token: string) {
    const [invite] = await this.db
      .select({
        id: staffInvites.id,
        email: staffInvites.email,
        displayName: staffInvites.displayName,
        merchantId: staffInvites.merchantId,
        merchantName: merchants.name,
        expiresAt: staffInvites.expiresAt,
        acceptedAt: staffInvites.acceptedAt,
        revokedAt: staffInvites.revokedAt,
      })
      .from(staffInvites)
      .innerJoin(merchants, eq(merchants.id, staffInvites.merchantId))
      .where(
        and(
          eq(staffInvites.tokenHash, hashSecret(token)),
          gt(staffInvites.expiresAt, this.clock()),
        ),
      );
    if (!invite) {
      throw new DomainError(
        "NOT_FOUND",
        "This invitation link is not valid or has expired. Ask your admin for a new one.",
      );
    }
    if (invite.acceptedAt) throw usedUp();
    if (invite.revokedAt) throw withdrawn(invite.revokedAt);
    return invite;
  }
}

function usedUp() {
  return new DomainError(
    "INVALID_STATE",
    "This invitation was already used: sign in with the password you chose.",
  );
}

function withdrawn(revokedAt: Date) {
  return new DomainError(
    "INVITE_REVOKED",
    `This invitation was withdrawn on ${revokedAt.toISOString()}. Ask your admin for a new one.`,
    { revokedAt: revokedAt.toISOString() },
  );
}

import "server-only";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { storableText } from "@/lib/storable-input";
import { DomainError } from "../errors";
import { log } from "../log";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import { DECOY_HASH, needsRehash, type PasswordHasher } from "./password";
import type { Session } from "./session";
import { endAllSessions, type Sessions } from "./sessions";
import { SignInLimits } from "./sign-in-limits";

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, "email is too long")
  .pipe(z.email("must be an email address"));
export const passwordSchema = z
  .string()
  .min(10, "password must be at least 10 characters")
  .max(200, "password must be at most 200 characters");

export const signUpInput = z.object({
  email: emailSchema,
  password: passwordSchema,
  displayName: storableText({ min: [1, "name is required"], max: [80, "name is too long"] }),
});
export const signInInput = z.object({
  email: emailSchema,
  password: z.string().min(1, "password is required").max(200),
});

const SIGN_UP_PER_IP = { limit: 10, windowMs: 60 * 60_000 };

export class AuthService {
  private readonly signInLimits: SignInLimits;

  constructor(
    private readonly db: Db,
    private readonly limiter: RateLimiter,
    private readonly hasher: PasswordHasher,
    private readonly sessions: Sessions,
  ) {
    this.signInLimits = new SignInLimits(limiter);
  }

  /**
   * Makes a shopper account, and answers the same whether or not the email already had one:
   * `{ email }`, no session, after the same work (one scrypt, one insert). Telling "taken"
   * told anyone which emails have accounts. The person then signs in with the password just
   * chosen: a new account lets them in; an existing one lets them in only with its own
   * password, and the sign-in page says that the email may already have an account. Without
   * an email step that sign-in still tells someone who holds a password whether it is the
   * account's, which the sign-in limits (not this answer) bound.
   */
  async signUp(input: z.infer<typeof signUpInput>, ip: string): Promise<{ email: string }> {
    await this.enforce(`signup:ip:${ip}`, SIGN_UP_PER_IP, "Too many sign-ups from this network.");
    const passwordHash = await this.hasher.hash(input.password);
    await this.db
      .insert(users)
      .values({
        id: newId(),
        email: input.email,
        displayName: input.displayName,
        passwordHash,
        role: "shopper",
      })
      .onConflictDoNothing({ target: users.email });
    return { email: input.email };
  }

  async signIn(input: z.infer<typeof signInInput>, ip: string): Promise<Session> {
    await this.signInLimits.check(input.email, ip);
    const [user] = await this.db.select().from(users).where(eq(users.email, input.email));
    const valid = await this.hasher.verify(input.password, user?.passwordHash ?? DECOY_HASH);
    if (!user || !valid) {
      await this.signInLimits.failed(input.email, ip);
      throw new DomainError("INVALID_CREDENTIALS", "Email or password is wrong.");
    }
    await this.signInLimits.succeeded(input.email, ip);
    // Told only to someone who knows the password: anyone else hears INVALID_CREDENTIALS.
    if (user.deactivatedAt) {
      throw new DomainError("ACCOUNT_DEACTIVATED", "An admin has deactivated this account.", {
        deactivatedAt: user.deactivatedAt.toISOString(),
      });
    }
    if (needsRehash(user.passwordHash)) this.rehashInBackground(user, input.password);
    return {
      userId: user.id,
      role: user.role,
      merchantId: user.merchantId ?? undefined,
      displayName: user.displayName,
    };
  }

  /**
   * A new password, given the current one; every session of the account ends, this one
   * included (the caller starts a fresh one), since a changed password is often a stolen one.
   */
  async changePassword(session: Session, current: string, next: string): Promise<Session> {
    const [user] = await this.db.select().from(users).where(eq(users.id, session.userId));
    if (!user || !(await this.hasher.verify(current, user.passwordHash))) {
      throw new DomainError("INVALID_CREDENTIALS", "The current password is wrong.", {
        fieldErrors: { current: ["is wrong"] },
      });
    }
    const passwordHash = await this.hasher.hash(next);
    await this.db.transaction(async (tx) => {
      await tx.update(users).set({ passwordHash }).where(eq(users.id, user.id));
      await endAllSessions(tx, user.id);
    });
    await this.sessions.changed(user.id);
    return {
      userId: user.id,
      role: user.role,
      merchantId: user.merchantId ?? undefined,
      displayName: user.displayName,
    };
  }

  /**
   * A hash made with older, weaker parameters is made again with today's, once the password is
   * known to be right. After the answer, so the sign-in does not wait for a second scrypt; a
   * full queue or a failed write leaves the old hash, to be tried again at the next sign-in.
   */
  private rehashInBackground(user: { id: string; passwordHash: string }, password: string) {
    this.hasher
      .hash(password)
      .then((passwordHash) =>
        // Only over the hash it replaces: a password changed meanwhile stays changed.
        this.db
          .update(users)
          .set({ passwordHash })
          .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash))),
      )
      .catch((error) => log.warn({ err: error, userId: user.id }, "password rehash skipped"));
  }

  private async enforce(key: string, rule: { limit: number; windowMs: number }, message: string) {
    const decision = await this.limiter.hit(key, rule.limit, rule.windowMs);
    if (!decision.allowed) {
      throw new DomainError("RATE_LIMITED", message, { retryAfterMs: decision.retryAfterMs });
    }
  }
}

import "server-only";
import { z } from "zod";
import { passwordSchema, signInInput, signUpInput } from "../../auth/auth-service";
import type { Session } from "../../auth/session";
import { type Context, publicProcedure, router, signedInProcedure } from "../trpc";

async function startSession(ctx: Context, session: Session) {
  const token = await ctx.services.sessions.issue(session);
  ctx.resHeaders.append("Set-Cookie", ctx.services.sessions.cookie(token, ctx.secureCookies));
  return session;
}

const inviteToken = z.object({
  token: z.string().regex(/^[A-Za-z0-9_-]{32}$/, "this is not an invitation link"),
});

export const authRouter = router({
  /** The same answer whether or not the email had an account: then sign in (see AuthService). */
  signUp: publicProcedure
    .input(signUpInput)
    .mutation(({ ctx, input }) => ctx.services.auth.signUp(input, ctx.ip)),
  signIn: publicProcedure
    .input(signInInput)
    .mutation(async ({ ctx, input }) =>
      startSession(ctx, await ctx.services.auth.signIn(input, ctx.ip)),
    ),
  /** Ends this session on every server, not only in this browser's cookie jar. */
  signOut: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.session) await ctx.services.sessions.end(ctx.session);
    ctx.resHeaders.append("Set-Cookie", ctx.services.sessions.clearingCookie(ctx.secureCookies));
    return { signedOut: true };
  }),
  /** Ends every session of the account, on every device, this one included. */
  signOutEverywhere: signedInProcedure.mutation(async ({ ctx }) => {
    await ctx.services.sessions.endAll(ctx.session.userId);
    ctx.resHeaders.append("Set-Cookie", ctx.services.sessions.clearingCookie(ctx.secureCookies));
    return { signedOut: true };
  }),
  /** Every other session ends with the old password; this browser gets a fresh one. */
  changePassword: signedInProcedure
    .input(
      z.object({
        current: z.string().min(1, "enter your current password").max(200),
        next: passwordSchema,
      }),
    )
    .mutation(async ({ ctx, input }) =>
      startSession(
        ctx,
        await ctx.services.auth.changePassword(ctx.session, input.current, input.next),
      ),
    ),
  me: publicProcedure.query(({ ctx }) => ctx.session),
  /** What a staff invitation link is for, before the person sets a password. */
  invite: publicProcedure
    .input(inviteToken)
    .query(({ ctx, input }) => ctx.services.staffInvites.describe(input.token)),
  acceptInvite: publicProcedure
    .input(inviteToken.extend({ password: passwordSchema }))
    .mutation(async ({ ctx, input }) =>
      startSession(ctx, await ctx.services.staffInvites.accept(input.token, input.password)),
    ),
});

import "server-only";
import { signInInput, signUpInput } from "../../auth/auth-service";
import type { Session } from "../../auth/session";
import { type Context, publicProcedure, router } from "../trpc";

async function startSession(ctx: Context, session: Session) {
  const token = await ctx.services.sessions.issue(session);
  ctx.resHeaders.append("Set-Cookie", ctx.services.sessions.cookie(token, ctx.secureCookies));
  return session;
}

export const authRouter = router({
  signUp: publicProcedure
    .input(signUpInput)
    .mutation(async ({ ctx, input }) =>
      startSession(ctx, await ctx.services.auth.signUp(input, ctx.ip)),
    ),
  signIn: publicProcedure
    .input(signInInput)
    .mutation(async ({ ctx, input }) =>
      startSession(ctx, await ctx.services.auth.signIn(input, ctx.ip)),
    ),
  signOut: publicProcedure.mutation(({ ctx }) => {
    ctx.resHeaders.append("Set-Cookie", ctx.services.sessions.clearingCookie(ctx.secureCookies));
    return { signedOut: true };
  }),
  me: publicProcedure.query(({ ctx }) => ctx.session),
});

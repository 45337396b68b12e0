import "server-only";
import { claimInputSchema } from "@/lib/claims/claim-contract";
import { router, shopperProcedure } from "../trpc";

export const claimsRouter = router({
  claim: shopperProcedure
    .input(claimInputSchema)
    .mutation(({ ctx, input }) => ctx.services.claims.claim(ctx.session.userId, input)),
  mine: shopperProcedure.query(({ ctx }) => ctx.services.claims.mine(ctx.session.userId)),
});

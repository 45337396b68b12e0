import "server-only";
import { cancelClaimInputSchema, claimInputSchema } from "@/lib/claims/claim-contract";
import { router, shopperProcedure } from "../trpc";

export const claimsRouter = router({
  claim: shopperProcedure
    .input(claimInputSchema)
    .mutation(({ ctx, input }) => ctx.services.claims.claim(ctx.session.userId, input)),
  cancel: shopperProcedure
    .input(cancelClaimInputSchema)
    .mutation(({ ctx, input }) => ctx.services.claims.cancel(ctx.session.userId, input.claimId)),
  mine: shopperProcedure.query(({ ctx }) => ctx.services.claims.mine(ctx.session.userId)),
});

import "server-only";
import { z } from "zod";
import { cancelClaimInputSchema, claimInputSchema } from "@/lib/claims/claim-contract";
import { idSchema } from "@/lib/ids";
import { router, shopperProcedure } from "../trpc";

export const claimsRouter = router({
  claim: shopperProcedure
    .input(claimInputSchema)
    .mutation(({ ctx, input }) => ctx.services.claims.claim(ctx.session.userId, input, ctx.ip)),
  /** A proof-of-work puzzle for this account, asked for after CHALLENGE_REQUIRED. */
  challenge: shopperProcedure.query(({ ctx }) =>
    ctx.services.bots.challenges.issue(ctx.session.userId),
  ),
  cancel: shopperProcedure
    .input(cancelClaimInputSchema)
    .mutation(({ ctx, input }) => ctx.services.claims.cancel(ctx.session.userId, input.claimId)),
  /** Pays for a reserved priced claim. `card` picks the test provider's outcome. */
  pay: shopperProcedure
    .input(
      z.object({
        claimId: idSchema,
        card: z.enum(
          ["approve", "decline", "slow", "lost"],
          "card must be approve, decline, slow or lost",
        ),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.services.checkout.pay(ctx.session.userId, input.claimId, input.card),
    ),
  mine: shopperProcedure.query(({ ctx }) => ctx.services.claims.mine(ctx.session.userId)),
});

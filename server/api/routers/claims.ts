import "server-only";
import { cancelClaimInputSchema, claimInputSchema } from "@/lib/claims/claim-contract";
import { type PaymentFormSpec, payInputSchema } from "@/lib/payments/pay-input";
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
  /** Pays for a reserved priced claim with the token the provider's form made. */
  pay: shopperProcedure
    .input(payInputSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.checkout.pay(ctx.session.userId, input.claimId, input.paymentMethod),
    ),
  /** Which payment form to draw, with the provider's public settings. */
  paymentForm: shopperProcedure.query(
    ({ ctx }): PaymentFormSpec => ({
      provider: ctx.services.paymentProvider.name,
      settings: ctx.services.paymentProvider.formSettings,
    }),
  ),
  mine: shopperProcedure.query(({ ctx }) => ctx.services.claims.mine(ctx.session.userId)),
});

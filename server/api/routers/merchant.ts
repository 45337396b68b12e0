import "server-only";
import { z } from "zod";
import { merchantProcedure, router } from "../trpc";

export const merchantRouter = router({
  myDeals: merchantProcedure.query(({ ctx }) => ctx.services.deals.listForMerchant(ctx.merchantId)),
  revocations: merchantProcedure
    .input(z.object({ since: z.date().nullable() }))
    .query(({ ctx, input }) => ctx.services.vouchers.revocations(ctx.merchantId, input.since)),
  redeem: merchantProcedure
    .input(
      z.object({
        // Anything up to this length goes to the verifier, which names what is wrong with it.
        token: z.string().max(16_384, "is far too long to be a voucher"),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.services.redemptions.redeem({
        merchantId: ctx.merchantId,
        token: input.token,
        staffUserId: ctx.session.userId,
      }),
    ),
});

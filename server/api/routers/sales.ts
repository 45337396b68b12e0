import "server-only";
import { z } from "zod";
import { createDealInputSchema, updateDealInputSchema } from "@/lib/deals/deal-rules";
import { idSchema } from "@/lib/ids";
import { storableText } from "@/lib/storable-input";
import { managerStreamProcedure } from "../stream-procedures";
import { managerProcedure, router } from "../trpc";

const dealInput = z.object({ dealId: idSchema });

/** Deals as admins (every merchant's) and merchant staff (their own) manage and watch them. */
export const salesRouter = router({
  list: managerProcedure.query(({ ctx }) => ctx.services.dealManagement.list(ctx.session)),
  get: managerProcedure
    .input(dealInput)
    .query(({ ctx, input }) => ctx.services.dealManagement.get(ctx.session, input.dealId)),
  create: managerProcedure
    .input(createDealInputSchema)
    .mutation(({ ctx, input }) => ctx.services.dealManagement.create(ctx.session, input)),
  update: managerProcedure
    .input(updateDealInputSchema)
    .mutation(({ ctx, input }) => ctx.services.dealManagement.update(ctx.session, input)),
  cancel: managerProcedure
    .input(
      dealInput.extend({
        reason: storableText({
          min: [3, "say why, in a few words: shoppers' vouchers are revoked"],
          max: [200, "keep the reason under 200 characters"],
        }),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.services.dealManagement.cancel(ctx.session, input.dealId, input.reason),
    ),
  /** The live sale monitor (SSE): a snapshot every second, shared by the deal's viewers. */
  monitor: managerStreamProcedure
    .input(dealInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.services.monitor.watch(ctx.session, input.dealId, signal),
    ),
  /** One snapshot of the monitor, for scripts and tests. */
  snapshot: managerProcedure
    .input(dealInput)
    .query(({ ctx, input }) => ctx.services.monitor.snapshot(ctx.session, input.dealId)),
  history: managerProcedure.input(dealInput).query(async ({ ctx, input }) => {
    await ctx.services.dealManagement.get(ctx.session, input.dealId);
    return ctx.services.audit.list({ targetId: input.dealId });
  }),
});

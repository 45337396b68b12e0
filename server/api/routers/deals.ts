import "server-only";
import { dealIdInput, nearInputSchema } from "../../deals/deal-discovery";
import { publicProcedure, router } from "../trpc";

export const dealsRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.services.deals.listOpen()),
  /** Deals within a radius of a point, nearest first (cached; stock may lag a few seconds). */
  near: publicProcedure
    .input(nearInputSchema)
    .query(({ ctx, input }) => ctx.services.discovery.near(input)),
  /** Live stock of one deal (SSE): the count now, then coalesced updates. */
  stock: publicProcedure.input(dealIdInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const update of ctx.services.stock.subscribe(input.dealId, signal)) {
      yield { remaining: update.remaining, quantity: update.quantity, at: update.at };
    }
  }),
  byId: publicProcedure
    .input(dealIdInput)
    .query(({ ctx, input }) => ctx.services.discovery.byId(input.dealId)),
});

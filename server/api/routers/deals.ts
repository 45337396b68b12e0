import "server-only";
import { dealIdInput, nearInputSchema } from "../../deals/deal-discovery";
import { publicProcedure, router } from "../trpc";

/** Live stock is not a procedure: `GET /api/deals/<dealId>/stock` (lib/deals/live-stock.ts). */
export const dealsRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.services.deals.listOpen()),
  /** Deals within a radius of a point, nearest first (cached; stock may lag a few seconds). */
  near: publicProcedure
    .input(nearInputSchema)
    .query(({ ctx, input }) => ctx.services.discovery.near(input)),
  byId: publicProcedure
    .input(dealIdInput)
    .query(({ ctx, input }) => ctx.services.discovery.byId(input.dealId)),
});

import "server-only";
import { publicProcedure, router } from "../trpc";

export const dealsRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.services.deals.listOpen()),
});

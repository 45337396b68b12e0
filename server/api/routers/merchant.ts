import "server-only";
import { merchantProcedure, router } from "../trpc";

export const merchantRouter = router({
  myDeals: merchantProcedure.query(({ ctx }) => ctx.services.deals.listForMerchant(ctx.merchantId)),
});

import "server-only";
import { z } from "zod";
import { idSchema } from "@/lib/ids";
import { router, shopperProcedure } from "../trpc";

export const vouchersRouter = router({
  mine: shopperProcedure.query(({ ctx }) => ctx.services.vouchers.mine(ctx.session.userId)),
  get: shopperProcedure
    .input(z.object({ voucherId: idSchema }))
    .query(({ ctx, input }) =>
      ctx.services.vouchers.forShopper(ctx.session.userId, input.voucherId),
    ),
});

import "server-only";
import { z } from "zod";
import { idSchema } from "@/lib/ids";
import { adminProcedure, router } from "../trpc";

const dealInput = z.object({ dealId: idSchema });

export const adminRouter = router({
  gateStatus: adminProcedure
    .input(dealInput)
    .query(({ ctx, input }) => ctx.services.gates.status(input.dealId)),
  rebuildGate: adminProcedure
    .input(dealInput)
    .mutation(({ ctx, input }) => ctx.services.gates.rebuild(input.dealId)),
});

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
  devices: adminProcedure.query(({ ctx }) => ctx.services.devices.list(null)),
  revokeDevice: adminProcedure
    .input(z.object({ deviceId: idSchema }))
    .mutation(({ ctx, input }) => ctx.services.devices.revoke(input.deviceId, null)),
  redemptions: adminProcedure.query(({ ctx }) => ctx.services.redemptionSync.history(null)),
  signingKeys: adminProcedure.query(({ ctx }) => ctx.services.signingKeys.list()),
  /** Publishes a new key; it starts signing after the lead time (VOUCHER_KEY_LEAD_MS). */
  stageSigningKey: adminProcedure.mutation(({ ctx }) => ctx.services.signingKeys.stageNextKey()),
  activateSigningKey: adminProcedure.mutation(({ ctx }) =>
    ctx.services.signingKeys.activateNextKey(),
  ),
});

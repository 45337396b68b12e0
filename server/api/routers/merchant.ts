import "server-only";
import { z } from "zod";
import { idSchema } from "@/lib/ids";
import { storableText } from "@/lib/storable-input";
import { feedPositionSchema } from "@/lib/vouchers/trust-feed";
import { auditCursor } from "../../audit/audit-log";
import { merchantProcedure, router } from "../trpc";

const deviceNameSchema = storableText({
  min: [1, "give the device a name, such as 'Till 1'"],
  max: [60, "keep the name under 60 characters"],
});

export const merchantRouter = router({
  /** The staff member's own shop: its name, address and place (new deals start there). */
  shop: merchantProcedure.query(async ({ ctx }) => {
    const { id, name, address, lat, lng } = await ctx.services.merchants.shop(ctx.merchantId);
    return { id, name, address, location: { lat, lng } };
  }),
  myDeals: merchantProcedure.query(({ ctx }) => ctx.services.deals.listForMerchant(ctx.merchantId)),
  revocations: merchantProcedure
    .input(z.object({ after: feedPositionSchema("after").nullable() }))
    .query(({ ctx, input }) => ctx.services.trustFeeds.revocations(ctx.merchantId, input.after)),
  enrollDevice: merchantProcedure
    .input(z.object({ name: deviceNameSchema }))
    .mutation(({ ctx, input }) =>
      ctx.services.devices.enroll({ ...ctx.session, merchantId: ctx.merchantId }, input.name),
    ),
  devices: merchantProcedure.query(({ ctx }) => ctx.services.devices.list(ctx.merchantId)),
  revokeDevice: merchantProcedure
    .input(z.object({ deviceId: idSchema }))
    .mutation(({ ctx, input }) => ctx.services.devices.revoke(ctx.session, input.deviceId)),
  /** Keeps a device on hold (its enroller left the shop): it is heard again. */
  keepDevice: merchantProcedure
    .input(z.object({ deviceId: idSchema }))
    .mutation(({ ctx, input }) => ctx.services.devices.keep(ctx.session, input.deviceId)),
  redemptions: merchantProcedure.query(({ ctx }) =>
    ctx.services.redemptionSync.history(ctx.merchantId),
  ),
  /** This merchant's change history: deals, devices, staff (who, what, when). */
  auditLog: merchantProcedure
    .input(z.object({ before: auditCursor }))
    .query(({ ctx, input }) =>
      ctx.services.audit.list({ merchantId: ctx.merchantId, before: input.before }),
    ),
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

import "server-only";
import { z } from "zod";
import { timestampSchema } from "@/lib/storable-input";
import { syncRedemptionsInput } from "../../vouchers/redemption-sync";
import { deviceProcedure, router } from "../trpc";

/** What an enrolled counter device calls, with its credential (`x-device-credential`). */
export const deviceRouter = router({
  /**
   * Everything the device needs to verify offline: the key set, this merchant's deal titles,
   * revocations since the device's cursor, and how old this bundle may get before the device
   * must stop verifying offline.
   */
  trustBundle: deviceProcedure
    .input(z.object({ revocationsSince: timestampSchema("revocationsSince").nullable() }))
    .query(async ({ ctx, input }) => {
      const { services, device } = ctx;
      const [keys, deals, revocations] = await Promise.all([
        services.signingKeys.publishedKeys(),
        services.deals.listForMerchant(device.merchantId),
        services.vouchers.revocations(device.merchantId, input.revocationsSince),
      ]);
      return {
        device,
        keys,
        deals: deals.map(({ id, title }) => ({ id, title })),
        revocations,
        clockSkewSeconds: services.env.VOUCHER_CLOCK_SKEW_SECONDS,
        maxTrustAgeMs: services.env.DEVICE_TRUST_MAX_AGE_MS,
        serverTime: new Date(),
      };
    }),
  syncRedemptions: deviceProcedure
    .input(syncRedemptionsInput)
    .mutation(({ ctx, input }) => ctx.services.redemptionSync.sync(ctx.device, input)),
});

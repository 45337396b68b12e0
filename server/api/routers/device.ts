import "server-only";
import { feedRequestSchema } from "@/lib/vouchers/trust-feed";
import { syncRedemptionsInput } from "../../vouchers/redemption-sync";
import { deviceProcedure, router } from "../trpc";

/** What an enrolled counter device calls, with its credential (`x-device-credential`). */
export const deviceRouter = router({
  /**
   * Everything the device needs to verify offline: the key set, this merchant's deal titles,
   * a page of each feed it asks for (revocations, other tills' redemptions), how old this
   * bundle may get before the device must stop verifying offline, and the server's time, by
   * which the device judges expiry and age.
   */
  trustBundle: deviceProcedure.input(feedRequestSchema).query(async ({ ctx, input }) => {
    const { services, device } = ctx;
    const [keys, deals, feeds] = await Promise.all([
      services.signingKeys.publishedKeys(),
      services.deals.listForMerchant(device.merchantId),
      services.trustFeeds.read(device, input),
    ]);
    return {
      device,
      keys,
      deals: deals.map(({ id, title }) => ({ id, title })),
      ...feeds,
      clockSkewSeconds: services.env.VOUCHER_CLOCK_SKEW_SECONDS,
      maxTrustAgeMs: services.env.DEVICE_TRUST_MAX_AGE_MS,
    };
  }),
  syncRedemptions: deviceProcedure
    .input(syncRedemptionsInput)
    .mutation(({ ctx, input }) => ctx.services.redemptionSync.sync(ctx.device, input)),
});

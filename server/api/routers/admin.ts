import "server-only";
import { z } from "zod";
import { idSchema } from "@/lib/ids";
import { merchantFieldsSchema, staffInviteSchema } from "@/lib/merchants/merchant-rules";
import { auditCursor } from "../../audit/audit-log";
import { accountSearchInput, roleChangeInput } from "../../auth/account-admin";
import { adminProcedure, router } from "../trpc";

const dealInput = z.object({ dealId: idSchema });
const merchantInput = z.object({ merchantId: idSchema });
const accountInput = z.object({ userId: idSchema });

export const adminRouter = router({
  merchants: adminProcedure.query(({ ctx }) => ctx.services.merchants.list()),
  merchant: adminProcedure
    .input(merchantInput)
    .query(({ ctx, input }) => ctx.services.merchants.get(input.merchantId)),
  createMerchant: adminProcedure
    .input(merchantFieldsSchema)
    .mutation(({ ctx, input }) => ctx.services.merchants.create(ctx.session, input)),
  updateMerchant: adminProcedure
    .input(merchantInput.extend({ fields: merchantFieldsSchema }))
    .mutation(({ ctx, input }) =>
      ctx.services.merchants.update(ctx.session, input.merchantId, input.fields),
    ),
  /** Returns a one-time link for the person to set their password (no email is sent). */
  inviteStaff: adminProcedure
    .input(merchantInput.extend({ person: staffInviteSchema }))
    .mutation(({ ctx, input }) =>
      ctx.services.staffInvites.invite(ctx.session, input.merchantId, input.person),
    ),
  /** Withdraws an unused invitation: its link is refused from then on. */
  revokeInvite: adminProcedure
    .input(z.object({ inviteId: idSchema }))
    .mutation(({ ctx, input }) => ctx.services.staffInvites.revoke(ctx.session, input.inviteId)),
  gateStatus: adminProcedure
    .input(dealInput)
    .query(({ ctx, input }) => ctx.services.gates.status(input.dealId)),
  rebuildGate: adminProcedure
    .input(dealInput)
    .mutation(({ ctx, input }) => ctx.services.gates.rebuild(input.dealId, ctx.session)),
  devices: adminProcedure.query(({ ctx }) => ctx.services.devices.list(null)),
  revokeDevice: adminProcedure
    .input(z.object({ deviceId: idSchema }))
    .mutation(({ ctx, input }) => ctx.services.devices.revoke(ctx.session, input.deviceId)),
  /** Keeps a device on hold (its enroller lost the right): it is heard again. */
  keepDevice: adminProcedure
    .input(z.object({ deviceId: idSchema }))
    .mutation(({ ctx, input }) => ctx.services.devices.keep(ctx.session, input.deviceId)),
  accounts: adminProcedure
    .input(accountSearchInput)
    .query(({ ctx, input }) => ctx.services.accounts.list(input.search)),
  /** The account's sessions end at once, on every server; it cannot sign in until reactivated. */
  deactivateAccount: adminProcedure
    .input(accountInput)
    .mutation(({ ctx, input }) => ctx.services.accounts.deactivate(ctx.session, input.userId)),
  reactivateAccount: adminProcedure
    .input(accountInput)
    .mutation(({ ctx, input }) => ctx.services.accounts.reactivate(ctx.session, input.userId)),
  changeAccountRole: adminProcedure
    .input(accountInput.extend({ change: roleChangeInput }))
    .mutation(({ ctx, input }) =>
      ctx.services.accounts.changeRole(ctx.session, input.userId, input.change),
    ),
  redemptions: adminProcedure.query(({ ctx }) => ctx.services.redemptionSync.history(null)),
  signingKeys: adminProcedure.query(({ ctx }) => ctx.services.signingKeys.list()),
  /** Publishes a new key; it starts signing after the lead time (VOUCHER_KEY_LEAD_MS). */
  stageSigningKey: adminProcedure.mutation(({ ctx }) =>
    ctx.services.signingKeys.stageNextKey(ctx.session),
  ),
  activateSigningKey: adminProcedure.mutation(({ ctx }) =>
    ctx.services.signingKeys.activateNextKey(ctx.session),
  ),
  retireSigningKey: adminProcedure
    .input(z.object({ kid: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a key thumbprint") }))
    .mutation(({ ctx, input }) => ctx.services.signingKeys.retireKey(ctx.session, input.kid)),
  auditLog: adminProcedure
    .input(
      z.object({
        merchantId: idSchema.nullish(),
        before: auditCursor,
      }),
    )
    .query(({ ctx, input }) => ctx.services.audit.list(input)),
});

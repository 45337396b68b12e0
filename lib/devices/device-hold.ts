/**
 * Why a counter device is on hold (server/devices/device-service.ts, holdReasonOf): its
 * enroller lost the right to enrol it, so it is refused with DEVICE_ON_HOLD until the shop's
 * staff or an admin keeps or revokes it. Said the same on the admin's and the shop's pages.
 */
export const HOLD_REASON_TEXT = {
  "enroller-deactivated": "the account that enrolled it was deactivated",
  "enroller-left-shop": "the person who enrolled it no longer works for this shop",
} as const;

export type HoldReason = keyof typeof HOLD_REASON_TEXT;

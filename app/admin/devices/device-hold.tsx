import { HOLD_REASON_TEXT, type HoldReason } from "@/lib/devices/device-hold";

/** A device on hold, with why: it stays refused until someone keeps or revokes it. */
export function DeviceHold({ reason }: { reason: HoldReason }) {
  return (
    <span className="device-hold" data-testid="device-on-hold">
      <span className="badge badge-warn">On hold</span>
      <span className="cell-sub">{HOLD_REASON_TEXT[reason]}: keep it or revoke it</span>
    </span>
  );
}

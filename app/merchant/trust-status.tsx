import { clockError, describeAge, describeClockError, trustAge } from "@/lib/vouchers/server-clock";
import type { TrustBundle } from "./device-store";

/** How fresh the device's keys and lists are, and whether its clock can be believed. */
export function TrustStatus({ trust }: { trust: TrustBundle | undefined }) {
  const age = trustAge(trust, Date.now());
  const offBy = trust ? clockError(trust) : null;
  const text = age.usable
    ? `Keys and cancellations updated ${describeAge(age.ageMs)}.`
    : age.why === "clock-set-back"
      ? "Offline checks paused: this device's clock was set back since keys and cancellations were last updated. Connect to update them."
      : `Offline checks paused: keys and cancellations updated ${describeAge(age.ageMs)}. Connect to update them.`;
  return (
    <>
      <p
        className={age.usable ? "muted" : "error"}
        data-testid="trust-age"
        data-refreshed-at={trust?.refreshedAt}
      >
        {text}
      </p>
      {offBy !== null && (
        <p className="error" role="alert" data-testid="clock-warning">
          This device's clock is {describeClockError(offBy)} Dealdrop's. Vouchers are checked by
          Dealdrop's time; set the device's clock right.
        </p>
      )}
    </>
  );
}

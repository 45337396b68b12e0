import type { LocalRedemption } from "./device-store";

const STATE_LABEL = {
  pending: "waiting to sync",
  synced: "synced",
  conflict: "conflict",
  rejected: "refused by server",
} as const;

/** Today's redemptions on this device, each with where its sync stands. */
export function RedemptionHistory({ entries }: { entries: LocalRedemption[] }) {
  const waiting = entries.filter((e) => e.syncState === "pending").length;
  return (
    <section className="counter-panel" aria-labelledby="history-title">
      <h2 id="history-title">
        Today <span className="muted">· {entries.length} redeemed</span>
        {waiting > 0 && <span className="muted"> · {waiting} waiting to sync</span>}
      </h2>
      {entries.length === 0 ? (
        <p className="muted">No vouchers redeemed on this device today.</p>
      ) : (
        <ul className="history">
          {entries.map((entry) => (
            <li key={entry.voucherId} data-testid="history-entry" data-sync={entry.syncState}>
              <span className="history-time">
                {new Date(entry.redeemedAt).toLocaleTimeString()}
              </span>
              <span className="history-deal">{entry.dealTitle}</span>
              <span className={`badge sync-${entry.syncState}`}>
                {STATE_LABEL[entry.syncState]}
              </span>
              {entry.firstElsewhere && (
                <span className="history-note" data-testid="conflict-note">
                  First redeemed {entry.firstElsewhere.where} at{" "}
                  {new Date(entry.firstElsewhere.redeemedAt).toLocaleTimeString()}
                </span>
              )}
              {entry.cancelledAt && (
                <span className="history-note" data-testid="cancelled-note">
                  Cancelled at {new Date(entry.cancelledAt).toLocaleTimeString()}, before this
                  redemption reached Dealdrop: handed over on a cancelled voucher
                </span>
              )}
              {entry.clockFlag && (
                <span className="history-note" data-testid="clock-flag-note">
                  Server: this device's clock was wrong when it was redeemed
                </span>
              )}
              {entry.rejectReason && (
                <span className="history-note">Server: {entry.rejectReason}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

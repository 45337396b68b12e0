"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { BackLink } from "@/app/_ui/back-link";
import { HOLD_REASON_TEXT } from "@/lib/devices/device-hold";
import { useTRPC } from "@/lib/trpc/client";
import { CLOCK_FLAG_TEXT } from "@/lib/vouchers/server-clock";

const time = (date: Date | null) => (date ? date.toLocaleString() : "never");

/** For staff, online: this shop's counter devices (revoke a lost one) and redemption conflicts. */
export function DevicesAndConflicts() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const devices = useQuery(trpc.merchant.devices.queryOptions(undefined, { retry: false }));
  const history = useQuery(trpc.merchant.redemptions.queryOptions(undefined, { retry: false }));
  const refresh = { onSuccess: () => queryClient.invalidateQueries() };
  const revoke = useMutation(trpc.merchant.revokeDevice.mutationOptions(refresh));
  const keep = useMutation(trpc.merchant.keepDevice.mutationOptions(refresh));

  if (devices.isError) {
    return (
      <p className="error">
        {devices.error.message} <Link href="/sign-in">Sign in as staff</Link>
      </p>
    );
  }
  return (
    <>
      <BackLink href="/merchant">Back to the counter</BackLink>
      <section className="counter-panel" aria-labelledby="devices-title">
        <h2 id="devices-title">Counter devices</h2>
        {devices.isPending ? (
          <p className="muted">Loading…</p>
        ) : devices.data.length === 0 ? (
          <p className="muted">No devices enrolled yet.</p>
        ) : (
          <ul className="history">
            {devices.data.map((device) => (
              <li key={device.deviceId} className="device-row" data-testid="device-row">
                <div>
                  <strong>{device.name}</strong>
                  <br />
                  <span className="muted">
                    enrolled by {device.enrolledBy} · last seen {time(device.lastSeenAt)}
                  </span>
                  {device.holdReason && (
                    <span className="device-hold-note" data-testid="device-on-hold">
                      <span className="badge sync-pending">on hold</span>{" "}
                      {HOLD_REASON_TEXT[device.holdReason]}: it does not sync until you keep or
                      revoke it.
                    </span>
                  )}
                </div>
                {device.revokedAt ? (
                  <span className="badge sync-rejected">revoked {time(device.revokedAt)}</span>
                ) : (
                  <span className="device-actions">
                    {device.holdReason && (
                      <button
                        type="button"
                        className="button button-small"
                        disabled={keep.isPending}
                        onClick={() => {
                          if (
                            window.confirm(
                              `Keep "${device.name}"? It syncs again, with you vouching for it.`,
                            )
                          ) {
                            keep.mutate({ deviceId: device.deviceId });
                          }
                        }}
                      >
                        Keep
                      </button>
                    )}
                    <button
                      type="button"
                      className="button button-secondary button-small"
                      disabled={revoke.isPending}
                      onClick={() => {
                        if (window.confirm(`Revoke "${device.name}"? It will no longer sync.`)) {
                          revoke.mutate({ deviceId: device.deviceId });
                        }
                      }}
                    >
                      Revoke
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="counter-panel" aria-labelledby="conflicts-title">
        <h2 id="conflicts-title">Redemption conflicts</h2>
        <p className="muted">
          A voucher redeemed on two devices while offline (the first to sync counts), or redeemed
          offline and cancelled online before the device synced (its unit went back on sale, a
          payment was refunded).
        </p>
        {history.data?.conflicts.length ? (
          <ul className="history">
            {history.data.conflicts.map((conflict) => (
              <li
                key={`${conflict.voucherId}-${conflict.deviceName}`}
                data-testid="conflict-row"
                data-kind={conflict.kind}
              >
                <span className="history-deal">{conflict.dealTitle}</span>
                {conflict.kind === "redeemed_after_cancellation" && (
                  <span className="badge sync-rejected">redeemed after cancellation</span>
                )}
                <span className="history-note">
                  Redeemed on "{conflict.deviceName}" at {time(conflict.redeemedAt)}
                  {conflict.kind === "redeemed_after_cancellation"
                    ? `, but the voucher was cancelled at ${time(conflict.revokedAt)}, before this reached Dealdrop at ${time(conflict.receivedAt)}`
                    : `, but first on "${conflict.firstDeviceName ?? "online"}" at ${time(conflict.firstRedeemedAt)}`}
                  {conflict.clockFlag && ` (${CLOCK_FLAG_TEXT[conflict.clockFlag]})`}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No conflicts.</p>
        )}
      </section>
      <section className="counter-panel" aria-labelledby="flagged-title">
        <h2 id="flagged-title">Redemptions with an impossible time</h2>
        <p className="muted">
          Recorded as the device sent them, but the device's clock was wrong: check that device's
          date and time.
        </p>
        {history.data?.flagged.length ? (
          <ul className="history">
            {history.data.flagged.map((flagged) => (
              <li key={flagged.voucherId} data-testid="flagged-row">
                <span className="history-deal">{flagged.dealTitle}</span>
                <span className="history-note">
                  Redeemed on "{flagged.deviceName ?? "online"}" at {time(flagged.redeemedAt)},
                  reached Dealdrop at {time(flagged.receivedAt)}:{" "}
                  {flagged.clockFlag && CLOCK_FLAG_TEXT[flagged.clockFlag]}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">None.</p>
        )}
      </section>
    </>
  );
}

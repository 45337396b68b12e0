"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc/client";
import { CLOCK_FLAG_TEXT } from "@/lib/vouchers/server-clock";
import { AdminTable, formatWhen, QueryView } from "../admin-parts";

const where = (deviceName: string | null) => (deviceName ? `“${deviceName}”` : "online");

/**
 * All merchants' recent redemptions, with the conflicts on top: a voucher redeemed twice, or
 * redeemed and cancelled before the redemption reached Dealdrop.
 */
export function RedemptionHistory() {
  const trpc = useTRPC();
  const history = useQuery(trpc.admin.redemptions.queryOptions());
  return (
    <QueryView query={history} what="redemptions">
      {({ redemptions, conflicts, flagged }) => {
        const conflicted = new Set(conflicts.map((conflict) => conflict.voucherId));
        return (
          <>
            <section
              className={`card admin-section${conflicts.length ? " admin-section-flagged" : ""}`}
              aria-labelledby="conflicts"
            >
              <div className="admin-section-head">
                <h2 id="conflicts">Conflicts</h2>
                <span className={`badge ${conflicts.length ? "badge-out" : "badge-live"}`}>
                  {conflicts.length === 0 ? "None" : `${conflicts.length} to look at`}
                </span>
              </div>
              <p className="muted">
                A voucher redeemed on two devices while they were offline: the first to reach
                Dealdrop counts, the later one is kept here. Or a voucher redeemed at an offline
                counter and cancelled before that redemption reached Dealdrop: its unit went back on
                sale and a payment was refunded, yet the deal was handed over.
              </p>
              {conflicts.length > 0 && (
                <AdminTable
                  columns={["Deal", "Redeemed (does not count)", "Conflicts with", "Voucher"]}
                >
                  {conflicts.map((conflict) => (
                    <tr
                      key={`${conflict.voucherId}-${conflict.receivedAt.toISOString()}`}
                      className="is-flagged"
                      data-testid="conflict-row"
                      data-kind={conflict.kind}
                    >
                      <td>
                        <strong>{conflict.dealTitle}</strong>
                      </td>
                      <td>
                        {formatWhen(conflict.redeemedAt)} on {where(conflict.deviceName)}
                        <span className="cell-sub">
                          synced {formatWhen(conflict.receivedAt)}
                          {conflict.clockFlag && ` · ${CLOCK_FLAG_TEXT[conflict.clockFlag]}`}
                        </span>
                      </td>
                      <td>
                        {conflict.kind === "redeemed_after_cancellation" ? (
                          <>
                            <span className="badge badge-out conflict-tag">
                              redeemed after cancellation
                            </span>
                            <span className="cell-sub">
                              cancelled {formatWhen(conflict.revokedAt)}
                            </span>
                          </>
                        ) : (
                          <>
                            first redeemed {formatWhen(conflict.firstRedeemedAt)} on{" "}
                            {where(conflict.firstDeviceName)} (counts)
                          </>
                        )}
                      </td>
                      <td className="mono">{conflict.voucherId}</td>
                    </tr>
                  ))}
                </AdminTable>
              )}
            </section>
            {flagged.length > 0 && (
              <section
                className="card admin-section admin-section-flagged"
                aria-labelledby="flagged"
              >
                <div className="admin-section-head">
                  <h2 id="flagged">Impossible times</h2>
                  <span className="badge badge-out">{flagged.length} to look at</span>
                </div>
                <p className="muted">
                  Redemptions recorded with the time their device sent, which cannot be right.
                </p>
                <AdminTable
                  columns={["Deal", "Redeemed (device's time)", "Reached Dealdrop", "Why"]}
                >
                  {flagged.map((redemption) => (
                    <tr key={redemption.voucherId} className="is-flagged" data-testid="flagged-row">
                      <td>
                        <strong>{redemption.dealTitle}</strong>
                      </td>
                      <td>
                        {formatWhen(redemption.redeemedAt)} on {where(redemption.deviceName)}
                      </td>
                      <td className="when">{formatWhen(redemption.receivedAt)}</td>
                      <td>{redemption.clockFlag && CLOCK_FLAG_TEXT[redemption.clockFlag]}</td>
                    </tr>
                  ))}
                </AdminTable>
              </section>
            )}
            <section className="card admin-section" aria-labelledby="redemptions">
              <div className="admin-section-head">
                <h2 id="redemptions">Recent redemptions</h2>
                <span className="muted">latest {redemptions.length}</span>
              </div>
              {redemptions.length === 0 ? (
                <p className="empty">No vouchers redeemed yet.</p>
              ) : (
                <AdminTable columns={["Deal", "Redeemed", "Where", "Reached Dealdrop", "Voucher"]}>
                  {redemptions.map((redemption) => {
                    const isConflicted = conflicted.has(redemption.voucherId);
                    return (
                      <tr
                        key={redemption.voucherId}
                        data-testid="redemption-row"
                        className={isConflicted ? "is-flagged" : undefined}
                      >
                        <td>
                          <strong>{redemption.dealTitle}</strong>
                          {isConflicted && (
                            <span className="badge badge-out conflict-tag">
                              also redeemed elsewhere
                            </span>
                          )}
                        </td>
                        <td className="when">{formatWhen(redemption.redeemedAt)}</td>
                        <td>
                          {redemption.deviceName
                            ? `Device “${redemption.deviceName}”`
                            : "Online check"}
                          {redemption.staffName && (
                            <span className="cell-sub">by {redemption.staffName}</span>
                          )}
                        </td>
                        <td className="when">{formatWhen(redemption.receivedAt)}</td>
                        <td className="mono">{redemption.voucherId}</td>
                      </tr>
                    );
                  })}
                </AdminTable>
              )}
            </section>
          </>
        );
      }}
    </QueryView>
  );
}

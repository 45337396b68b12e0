import { deviceApi, domainCodeOf } from "./device-api";
import {
  type LocalRedemption,
  pendingRedemptions,
  readTrust,
  saveTrust,
  updateRedemptions,
} from "./device-store";

export type SyncProblem =
  | { kind: "revoked"; message: string }
  | { kind: "not-enrolled"; message: string }
  | { kind: "offline"; message: string };

const BATCH = 200;

function problemOf(error: unknown): SyncProblem {
  const code = domainCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === "DEVICE_REVOKED") return { kind: "revoked", message };
  if (code === "DEVICE_UNKNOWN") return { kind: "not-enrolled", message };
  return { kind: "offline", message: "No connection to Dealdrop: working offline." };
}

/** Fetches keys, deal titles and new revocations; the device's trust is fresh from now. */
export async function refreshTrust(): Promise<SyncProblem | null> {
  try {
    const previous = await readTrust();
    let cursor = previous?.revocationsCursor ? new Date(previous.revocationsCursor) : null;
    for (;;) {
      const bundle = await deviceApi.device.trustBundle.query({ revocationsSince: cursor });
      cursor = bundle.revocations.cursor;
      await saveTrust(
        {
          keys: bundle.keys,
          deals: Object.fromEntries(bundle.deals.map((deal) => [deal.id, deal.title])),
          clockSkewSeconds: bundle.clockSkewSeconds,
          maxTrustAgeMs: bundle.maxTrustAgeMs,
          refreshedAt: Date.now(),
          revocationsCursor: cursor.toISOString(),
        },
        bundle.revocations.revocations.map((r) => ({
          voucherId: r.voucherId,
          revokedAt: r.revokedAt.getTime(),
          reason: r.reason,
        })),
      );
      if (bundle.revocations.complete) return null;
    }
  } catch (error) {
    return problemOf(error);
  }
}

/**
 * Pushes redemptions not yet synced, in batches. Each answer is stored on its entry:
 * synced, a conflict (with the first redemption the server holds), or refused.
 */
export async function pushOutbox(): Promise<SyncProblem | null> {
  try {
    for (;;) {
      const pending = await pendingRedemptions(BATCH);
      if (pending.length === 0) return null;
      const outcomes = await deviceApi.device.syncRedemptions.mutate({
        redemptions: pending.map((entry) => ({
          localId: entry.localId,
          token: entry.token,
          redeemedAt: new Date(entry.redeemedAt),
        })),
      });
      const byLocalId = new Map(pending.map((entry) => [entry.localId, entry.voucherId]));
      const changes = outcomes.map((outcome): Partial<LocalRedemption> & { voucherId: string } => {
        const voucherId = byLocalId.get(outcome.localId) ?? "";
        if (outcome.status === "recorded") return { voucherId, syncState: "synced" };
        if (outcome.status === "conflict") {
          return {
            voucherId,
            syncState: "conflict",
            firstElsewhere: {
              where: outcome.first.where,
              redeemedAt: outcome.first.redeemedAt.getTime(),
            },
          };
        }
        return { voucherId, syncState: "rejected", rejectReason: outcome.reason };
      });
      await updateRedemptions(changes);
    }
  } catch (error) {
    return problemOf(error);
  }
}

/** Both directions: what the device did goes up, what it must know comes down. */
export async function syncNow(): Promise<SyncProblem | null> {
  const pushed = await pushOutbox();
  if (pushed?.kind === "revoked" || pushed?.kind === "not-enrolled") return pushed;
  return (await refreshTrust()) ?? pushed;
}

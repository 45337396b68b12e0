import { oneAtATime } from "@/lib/one-at-a-time";
import { refreshTrustInFull } from "@/lib/vouchers/trust-refresh";
import { deviceApi, domainCodeOf } from "./device-api";
import {
  type LocalRedemption,
  pendingRedemptions,
  readTrust,
  saveFeedEntries,
  saveTrust,
  updateRedemptions,
} from "./device-store";

export type SyncProblem =
  | { kind: "revoked"; message: string }
  | { kind: "not-enrolled"; message: string }
  | { kind: "on-hold"; message: string }
  | { kind: "offline"; message: string };

const BATCH = 200;

function problemOf(error: unknown): SyncProblem {
  const code = domainCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === "DEVICE_REVOKED") return { kind: "revoked", message };
  if (code === "DEVICE_UNKNOWN") return { kind: "not-enrolled", message };
  if (code === "DEVICE_ON_HOLD") return { kind: "on-hold", message };
  return { kind: "offline", message: "No connection to Dealdrop: working offline." };
}

/**
 * Fetches keys, deal titles and both feeds to their end; only then is the device's trust
 * fresh, and its clock offset to the server's renewed.
 */
export async function refreshTrust(): Promise<SyncProblem | null> {
  try {
    const previous = await readTrust();
    const done = await refreshTrustInFull(
      previous?.feeds ?? { revocations: null, redemptions: null },
      {
        fetchPage: (request) => deviceApi.device.trustBundle.query(request),
        saveEntries: saveFeedEntries,
        deviceNow: () => Date.now(),
      },
    );
    const { page } = done;
    await saveTrust({
      keys: page.keys,
      deals: Object.fromEntries(page.deals.map((deal) => [deal.id, deal.title])),
      clockSkewSeconds: page.clockSkewSeconds,
      maxTrustAgeMs: page.maxTrustAgeMs,
      ...done.clock,
      feeds: done.positions,
    });
    return null;
  } catch (error) {
    return problemOf(error);
  }
}

/**
 * Pushes redemptions not yet synced, in batches. Each answer is stored on its entry:
 * synced, a conflict (with the first redemption the server holds, or when the voucher was
 * cancelled), or refused.
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
        if (outcome.status === "recorded") {
          return { voucherId, syncState: "synced", clockFlag: outcome.clockFlag };
        }
        if (outcome.status === "conflict") {
          const conflict = {
            voucherId,
            syncState: "conflict" as const,
            clockFlag: outcome.clockFlag,
          };
          return outcome.kind === "redeemed_after_cancellation"
            ? { ...conflict, cancelledAt: outcome.cancelledAt.getTime() }
            : {
                ...conflict,
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

const pushOnce = oneAtATime(pushOutbox);
const refreshOnce = oneAtATime(refreshTrust);

/**
 * Both directions: what the device did goes up, what it must know comes down. Each runs one
 * at a time: the minute timer, a reconnect and a scan that arrive while one runs join it.
 * `afterPush` runs between the two, so the page shows what synced without waiting for a
 * refresh that may take pages.
 */
export async function syncNow(
  afterPush: () => Promise<void> = async () => undefined,
): Promise<SyncProblem | null> {
  const pushed = await pushOnce();
  await afterPush();
  if (pushed?.kind === "revoked" || pushed?.kind === "not-enrolled") return pushed;
  return (await refreshOnce()) ?? pushed;
}

import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { CounterTrust } from "@/lib/vouchers/counter-judgement";
import type { FeedPositions, TrustPage } from "@/lib/vouchers/trust-refresh";

/**
 * What a counter device keeps in IndexedDB, so it verifies and remembers with no network.
 * Used by the page and by the service worker (Background Sync).
 */
export interface EnrolledDevice {
  deviceId: string;
  deviceName: string;
  merchantId: string;
  merchantName: string;
  credential: string;
}

/**
 * The trust of the last completed refresh (every page of every feed read): `refreshedAt`
 * and the clock offset are written only then, so a refresh cut short leaves the trust aging.
 */
export interface TrustBundle extends CounterTrust {
  /** Where the next refresh starts in each feed. */
  feeds: FeedPositions;
}

export type SyncState = "pending" | "synced" | "conflict" | "rejected";

export interface LocalRedemption {
  voucherId: string;
  localId: string;
  token: string;
  dealId: string;
  dealTitle: string;
  redeemedAt: number;
  syncState: SyncState;
  /** For a conflict: the redemption the server had first. */
  firstElsewhere?: { where: string; redeemedAt: number };
  /** For a conflict: the voucher had been cancelled online before this reached the server. */
  cancelledAt?: number;
  rejectReason?: string;
  /** The server found this redemption's time impossible (the device clock was wrong). */
  clockFlag?: string;
}

export interface Revocation {
  voucherId: string;
  revokedAt: number;
  reason: string | null;
}

/** A redemption another till (or staff online) made and the server recorded. */
export interface RedeemedElsewhere {
  voucherId: string;
  redeemedAt: number;
  where: string;
}

interface CounterDb extends DBSchema {
  device: { key: "self"; value: EnrolledDevice };
  trust: { key: "bundle"; value: TrustBundle };
  revocations: { key: string; value: Revocation };
  redeemedElsewhere: { key: string; value: RedeemedElsewhere };
  redemptions: {
    key: string;
    value: LocalRedemption;
    indexes: { bySyncState: SyncState; byRedeemedAt: number };
  };
}

let opened: Promise<IDBPDatabase<CounterDb>> | null = null;

export function counterDb(): Promise<IDBPDatabase<CounterDb>> {
  opened ??= openDB<CounterDb>("dealdrop-counter", 2, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore("device");
        db.createObjectStore("trust");
        db.createObjectStore("revocations", { keyPath: "voucherId" });
        const redemptions = db.createObjectStore("redemptions", { keyPath: "voucherId" });
        redemptions.createIndex("bySyncState", "syncState");
        redemptions.createIndex("byRedeemedAt", "redeemedAt");
      }
      if (oldVersion < 2) db.createObjectStore("redeemedElsewhere", { keyPath: "voucherId" });
    },
  });
  return opened;
}

export async function readDevice() {
  return (await counterDb()).get("device", "self");
}

export async function saveDevice(device: EnrolledDevice) {
  await (await counterDb()).put("device", device, "self");
}

export async function readTrust(): Promise<TrustBundle | undefined> {
  const stored: Partial<TrustBundle> | undefined = await (await counterDb()).get("trust", "bundle");
  if (!stored) return undefined;
  // A bundle kept before feeds and the clock offset existed: its own clock until the next
  // refresh, which reads both feeds from the start.
  return {
    ...(stored as TrustBundle),
    clockOffsetMs: stored.clockOffsetMs ?? 0,
    feeds: stored.feeds ?? { revocations: null, redemptions: null },
  };
}

export async function findRevocation(voucherId: string) {
  return (await counterDb()).get("revocations", voucherId);
}

export async function findRedemption(voucherId: string) {
  return (await counterDb()).get("redemptions", voucherId);
}

export async function findRedeemedElsewhere(voucherId: string) {
  return (await counterDb()).get("redeemedElsewhere", voucherId);
}

/**
 * Records a redemption unless this device already has one for the voucher, in one
 * transaction: two scans racing cannot both be accepted. Returns the earlier one if any.
 */
export async function recordRedemption(entry: LocalRedemption): Promise<LocalRedemption | null> {
  const tx = (await counterDb()).transaction("redemptions", "readwrite");
  const earlier = await tx.store.get(entry.voucherId);
  if (!earlier) await tx.store.add(entry);
  await tx.done;
  return earlier ?? null;
}

export async function redemptionsSince(since: number) {
  const db = await counterDb();
  const rows = await db.getAllFromIndex(
    "redemptions",
    "byRedeemedAt",
    IDBKeyRange.lowerBound(since),
  );
  return rows.reverse();
}

export async function pendingRedemptions(limit: number) {
  return (await counterDb()).getAllFromIndex("redemptions", "bySyncState", "pending", limit);
}

export async function updateRedemptions(
  changes: (Partial<LocalRedemption> & { voucherId: string })[],
) {
  const tx = (await counterDb()).transaction("redemptions", "readwrite");
  for (const change of changes) {
    const current = await tx.store.get(change.voucherId);
    if (current) await tx.store.put({ ...current, ...change });
  }
  await tx.done;
}

/** Keeps one page's revocations and other tills' redemptions, merged by voucher id. */
export async function saveFeedEntries(page: TrustPage) {
  const tx = (await counterDb()).transaction(["revocations", "redeemedElsewhere"], "readwrite");
  for (const r of page.revocations?.entries ?? []) {
    await tx.objectStore("revocations").put({
      voucherId: r.voucherId,
      revokedAt: r.revokedAt.getTime(),
      reason: r.reason,
    });
  }
  for (const r of page.redemptions?.entries ?? []) {
    await tx.objectStore("redeemedElsewhere").put({
      voucherId: r.voucherId,
      redeemedAt: r.redeemedAt.getTime(),
      where: r.where,
    });
  }
  await tx.done;
}

/** Stores the trust of a completed refresh: from now on the device's freshness and clock. */
export async function saveTrust(trust: TrustBundle) {
  await (await counterDb()).put("trust", trust, "bundle");
}

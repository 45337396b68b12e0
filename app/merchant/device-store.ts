import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { VoucherPublicKey } from "@/lib/vouchers/voucher-format";

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

export interface TrustBundle {
  keys: VoucherPublicKey[];
  deals: Record<string, string>;
  clockSkewSeconds: number;
  maxTrustAgeMs: number;
  /** Device time of the last successful refresh: the age the UI shows and limits. */
  refreshedAt: number;
  revocationsCursor: string | null;
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
  rejectReason?: string;
}

export interface Revocation {
  voucherId: string;
  revokedAt: number;
  reason: string | null;
}

interface CounterDb extends DBSchema {
  device: { key: "self"; value: EnrolledDevice };
  trust: { key: "bundle"; value: TrustBundle };
  revocations: { key: string; value: Revocation };
  redemptions: {
    key: string;
    value: LocalRedemption;
    indexes: { bySyncState: SyncState; byRedeemedAt: number };
  };
}

let opened: Promise<IDBPDatabase<CounterDb>> | null = null;

export function counterDb(): Promise<IDBPDatabase<CounterDb>> {
  opened ??= openDB<CounterDb>("dealdrop-counter", 1, {
    upgrade(db) {
      db.createObjectStore("device");
      db.createObjectStore("trust");
      db.createObjectStore("revocations", { keyPath: "voucherId" });
      const redemptions = db.createObjectStore("redemptions", { keyPath: "voucherId" });
      redemptions.createIndex("bySyncState", "syncState");
      redemptions.createIndex("byRedeemedAt", "redeemedAt");
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

export async function readTrust() {
  return (await counterDb()).get("trust", "bundle");
}

export async function findRevocation(voucherId: string) {
  return (await counterDb()).get("revocations", voucherId);
}

export async function findRedemption(voucherId: string) {
  return (await counterDb()).get("redemptions", voucherId);
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

/** Stores a refreshed bundle and the revocations that came with it, in one transaction. */
export async function saveTrust(trust: TrustBundle, revocations: Revocation[]) {
  const tx = (await counterDb()).transaction(["trust", "revocations"], "readwrite");
  await tx.objectStore("trust").put(trust, "bundle");
  for (const revocation of revocations) await tx.objectStore("revocations").put(revocation);
  await tx.done;
}

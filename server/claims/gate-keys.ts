import "server-only";
import { boundedKey } from "../rate-limit/bounded-key";

/**
 * Keys of one deal's gate. The `{deal:ID}` hash tag puts them all on one Redis Cluster slot,
 * so a single Lua script may touch them together.
 */
export function gateKeys(prefix: string, dealId: string) {
  const tag = `${prefix}{deal:${dealId}}`;
  const meta = `${tag}:meta`;
  const users = `${tag}:users`;
  const idem = `${tag}:idem`;
  const pending = `${tag}:pending`;
  return {
    /** hash: remaining, starts, ends (epoch ms), state (active | cancelled | missing) */
    meta,
    /** hash: userId -> claimId of the user's active claim */
    users,
    /** hash: "userId:idempotencyKey" -> claimId of the win that key produced */
    idem,
    /** sorted set: "claimId|userId|idempotencyKey" scored by when the gate granted it */
    pending,
    /** KEYS in the order claim.lua, release.lua and open-gate.lua expect them */
    forScripts: [meta, users, idem, pending],
    /** string: short lock held while the gate is loaded from Postgres */
    loadLock: `${tag}:loading`,
    /** counter of one shopper's attempts on this deal in the current window */
    shopperAttempts: (userId: string) => `${tag}:rl:u:${userId}`,
    /** counter of one address's attempts on this deal in the current window (hashed: bounded) */
    addressAttempts: (ip: string) => `${tag}:rl:ip:${boundedKey(ip)}`,
  };
}
export type GateKeys = ReturnType<typeof gateKeys>;

/** Set of deal ids whose gate lives in Redis, walked by the reconciler. */
export const gateRegistryKey = (prefix: string) => `${prefix}gate:deals`;

export function pendingMember(claimId: string, userId: string, idempotencyKey: string): string {
  return `${claimId}|${userId}|${idempotencyKey}`;
}

export function parsePendingMember(member: string) {
  const [claimId = "", userId = "", idempotencyKey = ""] = member.split("|");
  return { claimId, userId, idempotencyKey };
}

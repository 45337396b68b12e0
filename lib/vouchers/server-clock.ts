/**
 * A counter device judges time by the server's clock, not only its own: a till whose clock is
 * set back would otherwise accept expired vouchers and never find its trust stale. At each
 * completed refresh the device keeps the offset between the two clocks; between refreshes it
 * adds that offset to its own clock.
 */
export interface ServerClockReading {
  /** Server time minus device time, in ms, at the last completed refresh. */
  clockOffsetMs: number;
  /** Device time when that refresh completed. */
  refreshedAt: number;
}

export interface TrustLimits {
  clockSkewSeconds: number;
  maxTrustAgeMs: number;
}

/** The server read its clock between the request leaving and the answer arriving: midway. */
export function readServerClock(
  serverTime: Date,
  sentAt: number,
  receivedAt: number,
): ServerClockReading {
  return {
    clockOffsetMs: serverTime.getTime() - (sentAt + receivedAt) / 2,
    refreshedAt: receivedAt,
  };
}

export function serverNow(reading: ServerClockReading, deviceNow: number): Date {
  return new Date(deviceNow + reading.clockOffsetMs);
}

export type TrustAge =
  | { usable: true; ageMs: number }
  | { usable: false; ageMs: number; why: "never" | "stale" | "clock-set-back" };

/**
 * How old the device's keys and lists are. A device clock that went back since the refresh
 * (by more than the skew) leaves the age unknown: the offset kept then no longer holds, and
 * an age read off that clock would never grow. Such trust is not usable until the next refresh.
 */
export function trustAge(
  trust: (ServerClockReading & TrustLimits) | undefined,
  deviceNow: number,
): TrustAge {
  if (!trust) return { usable: false, ageMs: Number.POSITIVE_INFINITY, why: "never" };
  const ageMs = deviceNow - trust.refreshedAt;
  if (ageMs < -trust.clockSkewSeconds * 1_000) {
    return { usable: false, ageMs: 0, why: "clock-set-back" };
  }
  const age = Math.max(0, ageMs);
  return age <= trust.maxTrustAgeMs
    ? { usable: true, ageMs: age }
    : { usable: false, ageMs: age, why: "stale" };
}

/** The device clock's error, when it is more than the skew allowance; null when within it. */
export function clockError(trust: ServerClockReading & TrustLimits): number | null {
  return Math.abs(trust.clockOffsetMs) > trust.clockSkewSeconds * 1_000
    ? trust.clockOffsetMs
    : null;
}

/** "2 h 5 min behind", "3 min ahead": how the device clock stands to the server's. */
export function describeClockError(offsetMs: number): string {
  return `${describeDuration(Math.abs(offsetMs))} ${offsetMs > 0 ? "behind" : "ahead"}`;
}

export function describeAge(ms: number): string {
  if (!Number.isFinite(ms)) return "never";
  if (ms < 60_000) return "just now";
  return `${describeDuration(ms)} ago`;
}

function describeDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1_000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days`;
}

/** Why the server flagged a synced redemption's time (its `clock_flag`), for staff. */
export const CLOCK_FLAG_TEXT = {
  before_issue: "its time is before the voucher was issued: the device's clock was behind",
  after_receipt: "its time is after it reached Dealdrop: the device's clock was ahead",
} as const;

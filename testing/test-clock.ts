/**
 * Where a test's movable clock starts: the start of the current hour, by the real clock. A
 * fixed date would drift away from the parts that cannot be told the time (Postgres's
 * `now()`, Redis key expiry, session tokens), and fail once that date is far enough behind.
 */
export function clockStart(): Date {
  return new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
}

/** Times on a deal page, said in the shop's own time zone (a shopper may be anywhere). */

const dayAndTime = (timeZone: string, locale?: string) =>
  new Intl.DateTimeFormat(locale, {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
const timeOnly = (timeZone: string, locale?: string) =>
  new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit" });
const dayOf = (date: Date, timeZone: string) =>
  new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short" }).format(date);

/** "Fri 4 Dec, 17:00" in the shop's zone. */
export function formatShopTime(date: Date, timeZone: string): string {
  return dayAndTime(timeZone).format(date);
}

/** "Fri 4 Dec, 17:00–19:00 (Europe/Amsterdam)"; both days when the window spans two. */
export function formatPickup(from: Date, until: Date, timeZone: string, locale?: string): string {
  const end =
    dayOf(from, timeZone) === dayOf(until, timeZone)
      ? timeOnly(timeZone, locale).format(until)
      : dayAndTime(timeZone, locale).format(until);
  return `${dayAndTime(timeZone, locale).format(from)}–${end} (${timeZone.replaceAll("_", " ")})`;
}

/** A countdown: "2 d 3 h", "1:02:03" or "4:05", never below zero. */
export function countdownText(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1_000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours}:${two(minutes)}:${two(seconds)}`;
  return `${minutes}:${two(seconds)}`;
}

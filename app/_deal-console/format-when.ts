const DAY_AND_TIME = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export const formatWhen = (date: Date) => DAY_AND_TIME.format(date);

/** A sale window; the end shows its time only when it falls on the start's day. */
export function formatWindow(start: Date, end: Date) {
  const sameDay = start.toDateString() === end.toDateString();
  return `${formatWhen(start)} – ${sameDay ? TIME.format(end) : formatWhen(end)}`;
}

/** "0:42", "12:05", "3:02:10", "4 d 6 h": how long until a moment. */
export function formatCountdown(ms: number) {
  const total = Math.max(0, Math.ceil(ms / 1_000));
  const days = Math.floor(total / 86_400);
  if (days > 0) return `${days} d ${Math.floor((total % 86_400) / 3_600)} h`;
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}`
    : `${minutes}:${seconds}`;
}

/** The value a datetime-local input holds for a moment, in the browser's time zone. */
export function toLocalInput(date: Date) {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}`;
}

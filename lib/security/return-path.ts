/**
 * Where sign-in sends a shopper back to: a path on this site, never another origin. The
 * query's `next` is read by the sign-in page, so anything a link can put there is refused
 * unless it is plainly a same-origin path (`/deals/abc`, `/vouchers?x=1`).
 */
export const RETURN_PARAM = "next";

/** The sign-in page's address that returns to `path` afterwards. */
export function signInHref(path: string): string {
  return `/sign-in?${RETURN_PARAM}=${encodeURIComponent(path)}`;
}

/**
 * `candidate` when it is a same-origin path, else null. Refused: anything not starting with
 * one `/` (absolute URLs, `javascript:`), protocol-relative `//host` and `/\host` (browsers
 * read a backslash as a slash), control characters and whitespace (`/\t/host` parses as
 * `//host`), and any path that resolves to another origin.
 */
export function safeReturnPath(candidate: string | null | undefined): string | null {
  if (!candidate || candidate.length > 2_000) return null;
  if (!candidate.startsWith("/") || candidate.startsWith("//")) return null;
  if (/[\\\s]/.test(candidate) || [...candidate].some(isControl)) return null;
  const base = "https://dealdrop.invalid";
  let resolved: URL;
  try {
    resolved = new URL(candidate, base);
  } catch {
    return null;
  }
  if (resolved.origin !== base) return null;
  if (resolved.pathname === "/sign-in") return null;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}

function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

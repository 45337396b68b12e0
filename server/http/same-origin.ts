import "server-only";
import type { RouteRefusal } from "./json-answer";

/** Sec-Fetch-Site values of a request the app's own pages made, or the person typed. */
const OWN_FETCH_SITES = new Set(["same-origin", "none"]);

const CROSS_SITE: RouteRefusal = {
  status: 403,
  error: {
    code: "FORBIDDEN",
    message: "This request came from another site: changes are accepted from the app's own pages.",
  },
};

/**
 * The refusal for a state-changing request (a tRPC mutation, a claim, a device's sync) that
 * a browser sent from another site, or null. The app's own origin is PUBLIC_URL's, or, with
 * PUBLIC_URL unset, whatever the request's Host header names (scheme aside: behind a proxy
 * the server may not know it). Both headers a browser may send are checked: `Origin` (sent
 * with every cross-origin request and every POST) and `Sec-Fetch-Site` (sent by current
 * browsers over HTTPS and to localhost), and either naming another site refuses.
 *
 * A request with neither passes: it comes from a non-browser client (the counter app's
 * tests, curl, a script), which holds its own credentials and can set any header it likes,
 * so checking it proves nothing. What this stops is a page elsewhere making a visitor's
 * browser send their cookie along, and that browser always says where the page is.
 */
export function crossSiteRefusal(
  header: (name: string) => string | undefined,
  publicOrigin: string | undefined,
): RouteRefusal | null {
  const site = header("sec-fetch-site");
  if (site !== undefined && !OWN_FETCH_SITES.has(site)) return CROSS_SITE;
  const origin = header("origin");
  if (origin === undefined) return null;
  if (publicOrigin !== undefined) return origin === publicOrigin ? null : CROSS_SITE;
  const host = originHost(origin);
  return host !== undefined && host === header("host")?.toLowerCase() ? null : CROSS_SITE;
}

/** `host[:port]` of an Origin header; "null" (a sandboxed frame, a file) and garbage: none. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host || undefined;
  } catch {
    return undefined;
  }
}

import "server-only";
import type { RouteRefusal } from "./json-answer";

/**
 * The refusal for a URL with a percent-escape that decodes to no text (`%E0%A4%A`, `%zz`,
 * a lone `%`), in its path or its query, or null. Checked at the edge, before any route: a
 * route or a page further on may decode the URL without expecting it to fail (Next did, and
 * answered 500).
 */
export function malformedUrlRefusal(url: string | undefined): RouteRefusal | null {
  try {
    decodeURIComponent(url ?? "");
    return null;
  } catch {
    return {
      status: 400,
      error: {
        code: "BAD_REQUEST",
        message: "The URL has a malformed percent-escape: encode it with encodeURIComponent.",
      },
    };
  }
}

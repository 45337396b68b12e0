import "server-only";
import { readCookie, SESSION_COOKIE } from "../auth/session";
import type { Services } from "../services";
import type { Context } from "./trpc";

/** Builds a request's context: the session comes from the cookie alone, with no query. */
export async function createRequestContext(
  services: Services,
  req: Request,
  resHeaders: Headers,
): Promise<Context> {
  const token = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
  return {
    services,
    session: await services.sessions.read(token),
    ip: clientIp(req.headers.get("x-forwarded-for"), req.headers.get("x-real-ip")),
    secureCookies: new URL(req.url).protocol === "https:",
    deviceCredential: req.headers.get("x-device-credential"),
    resHeaders,
  };
}

/**
 * The client's address as the proxy in front reports it (the first X-Forwarded-For hop), else
 * the peer's. Trusted as given: deploy behind a proxy that sets these headers.
 */
export function clientIp(
  forwardedFor: string | null | undefined,
  realIp: string | null | undefined,
  peer?: string,
): string {
  return forwardedFor?.split(",")[0]?.trim() || realIp || peer || "unknown";
}

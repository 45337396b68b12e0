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
    ip: clientIp(req),
    secureCookies: new URL(req.url).protocol === "https:",
    deviceCredential: req.headers.get("x-device-credential"),
    resHeaders,
  };
}

function clientIp(req: Request): string {
  const forwarded = req.headers.get("x-forwarded-for");
  return forwarded?.split(",")[0]?.trim() || req.headers.get("x-real-ip") || "unknown";
}

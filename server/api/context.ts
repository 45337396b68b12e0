import "server-only";
import { readCookie, SESSION_COOKIE } from "../auth/session";
import type { Services } from "../services";
import type { Context } from "./trpc";

/** Who sent a request, as the HTTP edge found it from the socket (server/http/client-address.ts). */
export interface Caller {
  /** The client's address: a normalized IP literal. */
  address: string;
  /** Whether the client reached us over HTTPS (its cookies are then marked Secure). */
  secure: boolean;
}

/** Builds a request's context: the session comes from the cookie alone, with no query. */
export async function createRequestContext(
  services: Services,
  req: Request,
  resHeaders: Headers,
  caller: Caller,
): Promise<Context> {
  const token = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
  return {
    services,
    session: await services.sessions.read(token),
    ip: caller.address,
    secureCookies: caller.secure,
    deviceCredential: req.headers.get("x-device-credential"),
    resHeaders,
  };
}

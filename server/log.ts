import "server-only";
import { createRequire } from "node:module";
import pino, { type DestinationStream } from "pino";
import { currentRequestId } from "./observability/request-context";

/** `LOG_FORMAT`, else pretty in development (`npm run dev`) and JSON everywhere else. */
export function logFormat(env: Record<string, string | undefined>): "pretty" | "json" {
  if (env.LOG_FORMAT === "pretty" || env.LOG_FORMAT === "json") return env.LOG_FORMAT;
  return env.NODE_ENV === "development" ? "pretty" : "json";
}

/**
 * pino-pretty in this thread (not a transport's worker, which Next's bundles cannot start),
 * loaded only when asked for: it is a dev dependency, absent from a production install, where
 * the lines stay JSON.
 */
function prettyStream(): DestinationStream | undefined {
  try {
    const pretty = createRequire(import.meta.url)("pino-pretty") as (
      options: Record<string, unknown>,
    ) => DestinationStream;
    return pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,app" });
  } catch {
    return undefined;
  }
}

export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? "info",
    base: { app: "dealdrop" },
    // Every line written while serving a request names it, whichever service writes it.
    // A new object each time: pino merges the line's fields into it.
    mixin() {
      const reqId = currentRequestId();
      return reqId ? { reqId } : {};
    },
    redact: {
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "secret",
        "credential",
        "*.credential",
        "privateJwkEncrypted",
        "*.privateJwkEncrypted",
      ],
      censor: "[redacted]",
    },
  },
  (logFormat(process.env) === "pretty" && prettyStream()) || undefined,
);

import "server-only";
import pino from "pino";
import { currentRequestId } from "./observability/request-context";

export const log = pino({
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
});

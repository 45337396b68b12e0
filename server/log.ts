import "server-only";
import pino from "pino";

export const log = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { app: "dealdrop" },
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

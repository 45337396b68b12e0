import "server-only";
import { type ApiErrorBody, DOMAIN_ERRORS, type DomainErrorCode } from "@/lib/wire/error-contract";

const BRAND = Symbol.for("dealdrop.DomainError");

/**
 * Errors the domain services throw. They know nothing of HTTP or tRPC: their codes, and the
 * wire code and status each is answered with, are the wire contract's (lib/wire/error-contract.ts).
 */
export class DomainError extends Error {
  readonly [BRAND] = true;

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }

  /**
   * Recognises a domain error by a global brand, not `instanceof`: Next.js compiles
   * instrumentation and routes into separate bundles, each with its own copy of this class.
   */
  static is(error: unknown): error is DomainError {
    return typeof error === "object" && error !== null && BRAND in error;
  }
}

/** A domain error as every transport answers it (a lean route's body, a tRPC error's data). */
export function wireBodyOf(error: DomainError): ApiErrorBody {
  const { retryAfterMs, fieldErrors } = error.details as {
    retryAfterMs?: number;
    fieldErrors?: Record<string, string[]>;
  };
  return {
    code: DOMAIN_ERRORS[error.code],
    domainCode: error.code,
    message: error.message,
    retryAfterMs,
    fieldErrors,
  };
}

/** Connection failures of postgres.js (its own codes, and the socket's). */
const LOST_CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
]);
/** Postgres refusing because it is shutting down, starting, or the connection broke (class 08). */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123])$/;
/** ioredis failing a command while Redis (or a Cluster) is away: no offline queue, or retries spent. */
const REDIS_AWAY =
  /Stream isn't writeable|Cluster isn't ready|Connection is closed|MaxRetriesPerRequest/;

/**
 * Whether an error is Postgres or Redis being out of reach rather than a fault of the
 * request or the code: such a request changed nothing and may be sent again in a moment.
 * Looks through wrapping (drizzle puts the driver's error in `cause`).
 */
export function isOutage(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const { code, name, message } = current as {
      code?: unknown;
      name?: unknown;
      message?: unknown;
    };
    if (
      typeof code === "string" &&
      (LOST_CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))
    )
      return true;
    if (typeof message === "string" && REDIS_AWAY.test(`${String(name)}: ${message}`)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** What a request that met an outage is told: UNAVAILABLE, with a retry delay. */
export function outageError(cause: unknown): DomainError {
  return new DomainError("UNAVAILABLE", "We could not reach our database: try again in a moment.", {
    retryAfterMs: 1_000,
    cause: String(cause),
  });
}

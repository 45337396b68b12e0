import "server-only";
/**
 * Errors the domain services throw. They know nothing of HTTP or tRPC; `server/api/trpc.ts`
 * maps each code to a tRPC code in one table.
 */
export type DomainErrorCode =
  | "NOT_FOUND"
  | "INVALID_CREDENTIALS"
  | "EMAIL_TAKEN"
  | "RATE_LIMITED"
  /** Too many requests from one client: heard again with a proof of work (server/bots). */
  | "CHALLENGE_REQUIRED"
  | "UNAVAILABLE"
  /** The request is valid but the thing it acts on is not in a state that allows it. */
  | "INVALID_STATE"
  | "DEVICE_UNKNOWN"
  | "DEVICE_REVOKED"
  /** A staff invitation an admin withdrew before it was used. */
  | "INVITE_REVOKED"
  | "OUT_OF_AREA"
  /** Input that passed its schema but breaks a rule of the thing it changes; details.fieldErrors. */
  | "INVALID_INPUT"
  /** Signed in, but the thing belongs to someone else (another merchant's deal, say). */
  | "NOT_YOURS";

const BRAND = Symbol.for("dealdrop.DomainError");

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

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
  | "UNAVAILABLE"
  /** The request is valid but the thing it acts on is not in a state that allows it. */
  | "INVALID_STATE"
  | "DEVICE_UNKNOWN"
  | "DEVICE_REVOKED"
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

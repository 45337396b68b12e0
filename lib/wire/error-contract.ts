import type { ZodError } from "zod";

/**
 * How every error crosses the wire, defined once where the server (which answers with it)
 * and every page (which reads it) can import it. The transports derive from it: tRPC takes
 * a domain code's wire code as its own code (server/api/trpc.ts), and the lean routes
 * (server/http/) answer the status below. Nothing here knows tRPC or node:http.
 */

/** Transport codes and their HTTP status. The names are tRPC's, so both transports agree. */
export const WIRE_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  CONFLICT: 409,
  /** The edge's own: a page request with a body of unstated length (tRPC has no such code). */
  LENGTH_REQUIRED: 411,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type WireCode = keyof typeof WIRE_STATUS;

/**
 * The errors domain services throw (server/errors.ts), each with the wire code it is answered
 * with. Add a code here and the typecheck asks for it wherever outcomes are named.
 */
export const DOMAIN_ERRORS = {
  NOT_FOUND: "NOT_FOUND",
  INVALID_CREDENTIALS: "UNAUTHORIZED",
  EMAIL_TAKEN: "CONFLICT",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  /** Too many requests from one client: heard again with a proof of work (server/bots). */
  CHALLENGE_REQUIRED: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** The request is valid but the thing it acts on is not in a state that allows it. */
  INVALID_STATE: "CONFLICT",
  DEVICE_UNKNOWN: "UNAUTHORIZED",
  DEVICE_REVOKED: "FORBIDDEN",
  /**
   * The person who enrolled this device has since lost the right to (role, shop or account):
   * it is refused until the shop's owner or an admin keeps or revokes it.
   */
  DEVICE_ON_HOLD: "FORBIDDEN",
  /** An admin deactivated this account: no sign-in, no session, until it is reactivated. */
  ACCOUNT_DEACTIVATED: "FORBIDDEN",
  /** A staff invitation an admin withdrew before it was used. */
  INVITE_REVOKED: "FORBIDDEN",
  OUT_OF_AREA: "FORBIDDEN",
  /** Input that passed its schema but breaks a rule of the thing it changes; fieldErrors. */
  INVALID_INPUT: "BAD_REQUEST",
  /** Signed in, but the thing belongs to someone else (another merchant's deal, say). */
  NOT_YOURS: "FORBIDDEN",
} as const satisfies Record<string, WireCode>;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

/** The status a domain error is answered with, on every transport. */
export const httpStatusOfDomainError = (code: DomainErrorCode): number =>
  WIRE_STATUS[DOMAIN_ERRORS[code]];

/**
 * What an error answer carries: the lean routes send `{ error: ApiErrorBody }`; tRPC sends the
 * same fields in its error's `data`, beside its message (see the errorFormatter).
 */
export interface ApiErrorBody {
  code: WireCode;
  /** The domain's code (RATE_LIMITED, OUT_OF_AREA, …) when a service refused. */
  domainCode?: DomainErrorCode;
  message: string;
  /** Input errors by the form field they belong to. */
  fieldErrors?: Record<string, string[]>;
  /** How long to wait before sending the same request again (also `Retry-After`). */
  retryAfterMs?: number;
}

/** What an unexpected error tells the caller: its message may quote SQL, so only the log sees it. */
export const INTERNAL_MESSAGE = "Something went wrong on our side: try again in a moment.";

/** Procedures wrap a form's fields in one of these; errors are keyed by the form's field. */
const FORM_WRAPPERS = new Set(["changes", "fields", "person"]);

/** Input errors keyed by the form field they belong to (`changes.quantity` → `quantity`). */
export function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (path.length > 1 && FORM_WRAPPERS.has(path[0] ?? "")) path.shift();
    const field = path[0] ?? "input";
    fieldErrors[field] = [...(fieldErrors[field] ?? []), issue.message];
  }
  return fieldErrors;
}

/** "field: message" for the first input error: what a person reads. */
export function firstInputMessage(fieldErrors: Record<string, string[]>): string | undefined {
  const [first] = Object.entries(fieldErrors);
  return first ? `${first[0]}: ${first[1][0]}` : undefined;
}

import {
  type ApiErrorBody,
  DOMAIN_ERRORS,
  type DomainErrorCode,
  WIRE_STATUS,
  type WireCode,
} from "./error-contract";

/** An error as a page reads it, whichever way the request went (tRPC or a lean route). */
export interface ApiError extends Omit<ApiErrorBody, "code"> {
  /** NETWORK when no answer came at all (offline, connection cut). */
  code: WireCode | "NETWORK";
  /** The HTTP status; 0 when no answer came. */
  status: number;
}

/**
 * What the fetch clients in lib/ throw: a lean route's refusal (`{ error: ApiErrorBody }`), or
 * status 0 and code NETWORK when no answer came.
 */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: Omit<ApiError, "status">,
  ) {
    super(error.message);
    this.name = "ApiRequestError";
  }
}

const NO_ANSWER = "No connection to Dealdrop: check your network and try again.";

/**
 * The one reader of API errors. Takes whatever a call threw: an ApiRequestError, a tRPC client
 * error (its `data` carries the same fields, see server/api/trpc.ts), or anything else, which
 * means the request got no answer.
 */
export function readApiError(error: unknown): ApiError {
  if (error instanceof ApiRequestError) return { ...error.error, status: error.status };
  const data = (error as { data?: unknown } | null)?.data;
  if (
    typeof data === "object" &&
    data !== null &&
    typeof (data as { code?: unknown }).code === "string"
  ) {
    const fields = data as Partial<ApiErrorBody> & { code: string; httpStatus?: number };
    const code = fields.code in WIRE_STATUS ? (fields.code as WireCode) : "INTERNAL_SERVER_ERROR";
    return {
      code,
      status: fields.httpStatus ?? WIRE_STATUS[code],
      domainCode: isDomainCode(fields.domainCode) ? fields.domainCode : undefined,
      message: (error as { message?: string }).message ?? "",
      fieldErrors: fields.fieldErrors ?? undefined,
      retryAfterMs: fields.retryAfterMs ?? undefined,
    };
  }
  return { code: "NETWORK", status: 0, message: (error as Error | null)?.message || NO_ANSWER };
}

const isDomainCode = (code: unknown): code is DomainErrorCode =>
  typeof code === "string" && code in DOMAIN_ERRORS;

const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
const ISO_MOMENT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;

/** A moment as this browser's person reads it. */
export const formatMoment = (date: Date) =>
  date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

/** An input field that names a thing by its id: it came from a link, not from a form. */
const isIdField = (field: string) => field === "id" || /[a-z]Id$/.test(field);

/**
 * What a failed call says to a person: the field messages of bad input (its message is only
 * the first of them), else the message, with any ISO 8601 moment in it said locally. An id
 * nobody typed (a link's `dealId`, `voucherId`) that is malformed or names nothing is said as
 * `missing`, the page's own words for "no such thing", never as the field and its rule.
 */
export function apiErrorMessage(error: unknown, options: { missing?: string } = {}): string {
  const read = readApiError(error);
  const fields = Object.entries(read.fieldErrors ?? {});
  const onlyIds = fields.length > 0 && fields.every(([field]) => isIdField(field));
  if (options.missing && (read.code === "NOT_FOUND" || (read.code === "BAD_REQUEST" && onlyIds))) {
    return options.missing;
  }
  if (onlyIds) return "This link is not valid: check it and try again.";
  const messages = fields.flatMap(([, list]) => list);
  if (messages.length > 0) return messages.map(sentence).join(" ");
  return read.message.replace(ISO_MOMENT, (iso) => formatMoment(new Date(iso)));
}

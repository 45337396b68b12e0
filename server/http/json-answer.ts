import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApiErrorBody, INTERNAL_MESSAGE, WIRE_STATUS } from "@/lib/wire/error-contract";
import { type DomainError, wireBodyOf } from "../errors";

/**
 * How the lean routes (claim, live stock) answer in JSON, in one place: errors in the wire
 * contract's shape (ApiErrorBody), with its status for their code.
 */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RouteRefusal {
  status: number;
  error: ApiErrorBody;
}

/** Never cached; an error's retry delay is also sent as `Retry-After`; a 405 names `allow`. */
export function jsonAnswer(
  status: number,
  body: { result?: unknown; error?: ApiErrorBody },
  allow: string,
): HttpAnswer {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "cache-control": "no-store",
  };
  const retryAfterMs = body.error?.retryAfterMs;
  if (retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(retryAfterMs / 1_000));
  if (status === 405) headers.allow = allow;
  return { status, headers, body: JSON.stringify(body) };
}

/** A refusal thrown by the edge's own checks (size, origin, content type), sent as it says. */
export class RefusedRequest extends Error {
  constructor(readonly refusal: RouteRefusal) {
    super(refusal.error.message);
  }
}

export const refusedRequest = (
  status: number,
  code: ApiErrorBody["code"],
  message: string,
  extra = {},
) => new RefusedRequest({ status, error: { code, message, ...extra } });

/**
 * Writes an answer. A request whose body was not read to its end is answered with
 * `connection: close`: node:http would otherwise read the rest of it, however large, to
 * reach the next request on the connection.
 */
export function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: HttpAnswer): void {
  if (bodyLeftUnread(req)) answer.headers.connection = "close";
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

export function bodyLeftUnread(req: IncomingMessage): boolean {
  const { "content-length": length, "transfer-encoding": encoding } = req.headers;
  return (encoding !== undefined || Number(length) > 0) && !req.readableEnded;
}

/** A domain error as a route tells it. */
export function domainRefusal(error: DomainError): RouteRefusal {
  const body = wireBodyOf(error);
  return { status: WIRE_STATUS[body.code], error: body };
}

/** An unexpected error: its message stays in the log. */
export const INTERNAL_REFUSAL: RouteRefusal = {
  status: 500,
  error: { code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE },
};

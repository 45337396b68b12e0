import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ClaimRouteError } from "@/lib/claims/claim-client";
import { claimInputSchema } from "@/lib/claims/claim-contract";
import { clientIp } from "../api/context";
import { fieldErrorsOf, firstInputMessage } from "../api/error-codes";
import { readCookie, SESSION_COOKIE } from "../auth/session";
import { DomainError } from "../errors";
import { log } from "../log";
import type { Services } from "../services";
import { domainRefusal, type HttpAnswer, INTERNAL_REFUSAL, jsonAnswer } from "./json-answer";

/**
 * Connections the kernel may queue before the server accepts them. Node's default, 511,
 * drops part of a sale's opening burst of connections, and a dropped SYN is retried only
 * after a second: the first claim of those shoppers then takes over a second.
 */
export const LISTEN_BACKLOG = 4_096;

/** A claim is a deal id, a key and perhaps a position: a few hundred bytes. */
const MAX_BODY_BYTES = 4_096;

class RouteError extends Error {
  constructor(
    readonly status: number,
    readonly error: ClaimRouteError,
  ) {
    super(error.message);
  }
}

const refuse = (status: number, code: string, message: string, extra: object = {}) =>
  new RouteError(status, { code, message, ...extra });

/** What the claim route needs of a request, whichever server received it. */
export interface ClaimHttpRequest {
  method: string | undefined;
  header(name: string): string | undefined;
  /** The body as text; throws a 413 RouteError past `limit` bytes. */
  body(limit: number): Promise<string>;
  /** The peer's address, when no proxy header names the client. */
  peer?: string;
}

/**
 * `POST /api/claim` (see lib/claims/claim-client.ts for the contract). It does what the tRPC
 * procedure `claims.claim` does, in the same order, with the same pieces: the session from
 * the cookie (no database), `claimInputSchema`, `ClaimService`, and the same error table. It
 * skips the router, the superjson transformer, the fetch Request and Next's per-request work,
 * which together cost far more CPU than the claim itself (see README, "The claim route").
 */
export async function answerClaim(
  services: Pick<Services, "claims" | "sessions">,
  req: ClaimHttpRequest,
): Promise<HttpAnswer> {
  try {
    return answer(200, { result: await claim(services, req) });
  } catch (error) {
    if (error instanceof RouteError) return answer(error.status, { error: error.error });
    const { status, error: refusal } = DomainError.is(error)
      ? domainRefusal(error)
      : unexpected(error);
    return answer(status, { error: refusal });
  }
}

/** The route on plain node:http: the production server answers claims with this. */
export function createNodeClaimRoute(services: Pick<Services, "claims" | "sessions">) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const { status, headers, body } = await answerClaim(services, {
      method: req.method,
      header: (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      },
      body: (limit) => readNodeBody(req, limit),
      peer: req.socket.remoteAddress,
    });
    res.writeHead(status, headers).end(body);
  };
}

/**
 * The same route as a fetch handler, for `next dev` and `next start` (app/api/claim): the
 * production server (server/http/main.ts) answers before Next sees the request.
 */
export async function answerFetchClaim(
  services: Pick<Services, "claims" | "sessions">,
  req: Request,
): Promise<Response> {
  const { status, headers, body } = await answerClaim(services, {
    method: req.method,
    header: (name) => req.headers.get(name) ?? undefined,
    body: (limit) => readFetchBody(req, limit),
  });
  return new Response(body, { status, headers });
}

async function claim(services: Pick<Services, "claims" | "sessions">, req: ClaimHttpRequest) {
  if (req.method !== "POST") {
    throw refuse(405, "METHOD_NOT_SUPPORTED", "Claims are sent with POST.");
  }
  if (!req.header("content-type")?.toLowerCase().startsWith("application/json")) {
    throw refuse(415, "UNSUPPORTED_MEDIA_TYPE", "Send the claim as application/json.");
  }
  const session = await services.sessions.read(
    readCookie(req.header("cookie") ?? null, SESSION_COOKIE),
  );
  if (!session) throw refuse(401, "UNAUTHORIZED", "Sign in first.");
  if (session.role !== "shopper") {
    throw refuse(403, "FORBIDDEN", "Only shopper accounts can do this.");
  }
  const parsed = claimInputSchema.safeParse(parseJson(await req.body(MAX_BODY_BYTES)));
  if (!parsed.success) {
    const fieldErrors = fieldErrorsOf(parsed.error);
    throw refuse(400, "BAD_REQUEST", firstInputMessage(fieldErrors) ?? "Invalid claim.", {
      fieldErrors,
    });
  }
  const ip = clientIp(req.header("x-forwarded-for"), req.header("x-real-ip"), req.peer);
  return services.claims.claim(session.userId, parsed.data, ip);
}

function unexpected(error: unknown) {
  log.error({ err: error, path: "/api/claim" }, "claim route failed");
  return INTERNAL_REFUSAL;
}

/** Reads the body by events: a stream's async iterator costs several times more per request. */
function readNodeBody(req: IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.once("end", () =>
      resolve(chunks.length === 1 ? String(chunks[0]) : Buffer.concat(chunks).toString("utf8")),
    );
    // The client hung up (or the socket broke) before the body ended.
    req.once("error", () => reject(cutShort()));
  });
}

async function readFetchBody(req: Request, limit: number): Promise<string> {
  if (Number(req.headers.get("content-length") ?? 0) > limit) throw tooLarge(limit);
  const reader = req.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const next = () => reader?.read().catch(() => Promise.reject(cutShort()));
  for (let read = await next(); read && !read.done; read = await next()) {
    size += read.value.length;
    if (size > limit) {
      await reader?.cancel();
      throw tooLarge(limit);
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const cutShort = () => refuse(400, "BAD_REQUEST", "The claim arrived cut short: send it again.");

const tooLarge = (limit: number) =>
  refuse(413, "PAYLOAD_TOO_LARGE", `A claim is at most ${limit} bytes.`);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw refuse(400, "BAD_REQUEST", "The body is not JSON.");
  }
}

function answer(status: number, body: { result?: unknown; error?: ClaimRouteError }): HttpAnswer {
  const answered = jsonAnswer(status, body, "POST");
  // A body cut short leaves the rest of it on the socket: close rather than read on.
  if (status === 413) answered.headers.connection = "close";
  return answered;
}

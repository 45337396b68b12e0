import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { claimInputSchema } from "@/lib/claims/claim-contract";
import { type ApiErrorBody, fieldErrorsOf, firstInputMessage } from "@/lib/wire/error-contract";
import { readCookie, SESSION_COOKIE } from "../auth/session";
import { DomainError } from "../errors";
import { log } from "../log";
import type { Services } from "../services";
import { readBody } from "./body-reader";
import {
  domainRefusal,
  type HttpAnswer,
  INTERNAL_REFUSAL,
  jsonAnswer,
  RefusedRequest,
  refusedRequest,
  sendAnswer,
} from "./json-answer";
import { crossSiteRefusal } from "./same-origin";

/**
 * Connections the kernel may queue before the server accepts them. Node's default, 511,
 * drops part of a sale's opening burst of connections, and a dropped SYN is retried only
 * after a second: the first claim of those shoppers then takes over a second.
 */
export const LISTEN_BACKLOG = 4_096;

/** A claim is a deal id, a key and perhaps a position: a few hundred bytes. */
export const MAX_CLAIM_BYTES = 4_096;

/** What the claim route needs of a request, whichever server received it. */
export interface ClaimHttpRequest {
  method: string | undefined;
  header(name: string): string | undefined;
  /** The body as text; throws a 413 RefusedRequest past `limit` bytes. */
  body(limit: number): Promise<string>;
  /** The client's address, as the edge found it from the socket (clientAddress). */
  address: string;
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
  publicOrigin?: string,
): Promise<HttpAnswer> {
  try {
    return answer(200, { result: await claim(services, req, publicOrigin) });
  } catch (error) {
    if (error instanceof RefusedRequest)
      return answer(error.refusal.status, { error: error.refusal.error });
    const { status, error: refusal } = DomainError.is(error)
      ? domainRefusal(error)
      : unexpected(error);
    return answer(status, { error: refusal });
  }
}

/** The route on node:http, as the HTTP edge (server/http/http-edge.ts) serves it. */
export function createNodeClaimRoute(
  services: Pick<Services, "claims" | "sessions">,
  publicOrigin: string | undefined,
) {
  return async (req: IncomingMessage, res: ServerResponse, address: string) => {
    const answered = await answerClaim(
      services,
      {
        method: req.method,
        header: (name) => {
          const value = req.headers[name];
          return Array.isArray(value) ? value[0] : value;
        },
        body: async (limit) => String(await readBody(req, limit, "A claim")),
        address,
      },
      publicOrigin,
    );
    sendAnswer(req, res, answered);
  };
}

async function claim(
  services: Pick<Services, "claims" | "sessions">,
  req: ClaimHttpRequest,
  publicOrigin: string | undefined,
) {
  if (req.method !== "POST") {
    throw refusedRequest(405, "METHOD_NOT_SUPPORTED", "Claims are sent with POST.");
  }
  const crossSite = crossSiteRefusal(req.header, publicOrigin);
  if (crossSite) throw new RefusedRequest(crossSite);
  if (!req.header("content-type")?.toLowerCase().startsWith("application/json")) {
    throw refusedRequest(415, "UNSUPPORTED_MEDIA_TYPE", "Send the claim as application/json.");
  }
  const session = await services.sessions.read(
    readCookie(req.header("cookie") ?? null, SESSION_COOKIE),
  );
  if (!session) throw refusedRequest(401, "UNAUTHORIZED", "Sign in first.");
  if (session.role !== "shopper") {
    throw refusedRequest(403, "FORBIDDEN", "Only shopper accounts can do this.");
  }
  const parsed = claimInputSchema.safeParse(parseJson(await req.body(MAX_CLAIM_BYTES)));
  if (!parsed.success) {
    const fieldErrors = fieldErrorsOf(parsed.error);
    throw refusedRequest(400, "BAD_REQUEST", firstInputMessage(fieldErrors) ?? "Invalid claim.", {
      fieldErrors,
    });
  }
  return services.claims.claim(session.userId, parsed.data, req.address);
}

function unexpected(error: unknown) {
  log.error({ err: error, path: "/api/claim" }, "claim route failed");
  return INTERNAL_REFUSAL;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw refusedRequest(400, "BAD_REQUEST", "The body is not JSON.");
  }
}

function answer(status: number, body: { result?: unknown; error?: ApiErrorBody }): HttpAnswer {
  return jsonAnswer(status, body, "POST");
}

import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { TRPCError } from "@trpc/server";
import type { Caller } from "../api/context";
import { handleTrpcRequest } from "../api/http-handler";
import type { Services } from "../services";
import { readBody } from "./body-reader";
import { bodyLeftUnread, RefusedRequest, type RouteRefusal } from "./json-answer";
import { crossSiteRefusal } from "./same-origin";

/** Methods a fetch Request can carry; tRPC answers those it does not take (405) itself. */
const FETCH_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

const NO_SUCH_METHOD: RouteRefusal = {
  status: 405,
  error: { code: "METHOD_NOT_SUPPORTED", message: "tRPC is called with GET and POST." },
};

/** Headers about this hop's connection and framing: the fetch Request has its own body. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

export interface TrpcEdge {
  publicOrigin: string | undefined;
  maxBodyBytes: number;
}

/**
 * `/api/trpc/*` on node:http, with the socket in hand: the edge's checks, then tRPC's fetch
 * handler with the caller found from the socket. A mutation (POST; tRPC takes mutations
 * only as POST) must come from the app's own origin and be JSON, which a cross-site form
 * cannot send without a CORS preflight (multipart, text/plain and urlencoded need none); its
 * body is read once, bounded. Refusals go out in tRPC's error shape, so the app's tRPC
 * client reads them like any other error.
 */
export function createNodeTrpcRoute(services: Services, edge: TrpcEdge) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    caller: Caller,
    earlier: RouteRefusal | null,
  ) => {
    const header = (name: string) => headerOf(req, name);
    let refusal = earlier ?? (FETCH_METHODS.has(req.method ?? "") ? null : NO_SUCH_METHOD);
    if (!refusal && req.method === "POST") {
      refusal = crossSiteRefusal(header, edge.publicOrigin) ?? jsonOnly(header("content-type"));
    }
    let body: Buffer | undefined;
    if (!refusal && req.method === "POST") {
      try {
        body = await readBody(req, edge.maxBodyBytes, "A request body");
      } catch (error) {
        if (!(error instanceof RefusedRequest)) throw error;
        refusal = error.refusal;
      }
    }
    const aborted = new AbortController();
    res.once("close", () => aborted.abort());
    const request = fetchRequestOf(req, body, refusal !== null, aborted.signal);
    const response = await handleTrpcRequest(
      services,
      request,
      caller,
      refusal ? trpcErrorOf(refusal) : undefined,
    );
    await sendFetchResponse(req, res, response);
  };
}

function jsonOnly(contentType: string | undefined): RouteRefusal | null {
  const media = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  if (media === "application/json") return null;
  return {
    status: 415,
    error: { code: "UNSUPPORTED_MEDIA_TYPE", message: "Send tRPC calls as application/json." },
  };
}

function trpcErrorOf({ error }: RouteRefusal): TRPCError {
  return new TRPCError({ code: error.code as TRPCError["code"], message: error.message });
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request as tRPC's fetch handler takes it. A refused request keeps its URL (tRPC answers
 * each call of a batch) but loses its body and says it is JSON, so that nothing in tRPC reads
 * or parses what was refused.
 */
function fetchRequestOf(
  req: IncomingMessage,
  body: Buffer | undefined,
  refused: boolean,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!HOP_HEADERS.has(name)) headers.append(name, raw[i + 1] as string);
  }
  if (refused) headers.set("content-type", "application/json");
  const method = FETCH_METHODS.has(req.method ?? "") ? (req.method as string) : "GET";
  const withBody = method === "POST" && body !== undefined;
  return new Request(new URL(req.url ?? "/", "http://edge.invalid"), {
    method,
    headers,
    body: withBody ? (body as Uint8Array<ArrayBuffer>) : undefined,
    signal,
  });
}

/**
 * Writes a fetch Response to node:http: its headers (each Set-Cookie on its own), then its
 * body as it comes (a subscription's stream for as long as the client stays).
 */
async function sendFetchResponse(req: IncomingMessage, res: ServerResponse, response: Response) {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  if (bodyLeftUnread(req)) headers.connection = "close";
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const stream = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  // A client that leaves ends the pipeline; that is how streams end, not an error.
  await pipeline(stream, res).catch(() => undefined);
}

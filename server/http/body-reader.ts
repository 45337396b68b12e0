import "server-only";
import type { IncomingMessage } from "node:http";
import { type RefusedRequest, refusedRequest } from "./json-answer";

/** A body declared larger than `limit`: refused before a byte of it is read. */
export function declaredTooLarge(req: IncomingMessage, limit: number, what: string) {
  return Number(req.headers["content-length"] ?? 0) > limit ? tooLarge(limit, what) : null;
}

/**
 * The request's body, read once, for every route that reads one (the claim route, tRPC).
 * Refuses with a RefusedRequest: 413 past `limit` bytes, declared or counted as they arrive
 * (a chunked body has no length to check first), and 400 when the client hangs up before
 * the end. Past the limit nothing more is kept: the rest of a 200 MB body is never buffered.
 * Reads by events: a stream's async iterator costs several times more per request.
 */
export function readBody(req: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = declaredTooLarge(req, limit, what);
  if (declared) return Promise.reject(declared);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Still flowing, to nowhere, until the answer closes the connection (sendAnswer).
        req.removeAllListeners("data");
        reject(tooLarge(limit, what));
      } else chunks.push(chunk);
    });
    req.once("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
    req.once("error", () =>
      reject(refusedRequest(400, "BAD_REQUEST", "The request arrived cut short: send it again.")),
    );
  });
}

const tooLarge = (limit: number, what: string): RefusedRequest =>
  refusedRequest(413, "PAYLOAD_TOO_LARGE", `${what} is at most ${limit} bytes.`);

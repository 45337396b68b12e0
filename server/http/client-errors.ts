import "server-only";
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** Node's parser errors that have a status of their own; every other one is a 400. */
const STATUS_OF_PARSE_ERROR: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    "Request Header Fields Too Large",
    "The request's headers are too large.",
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "The request took too long to arrive."],
  HPE_HEADERS_TIMEOUT: [408, "Request Timeout", "The request took too long to arrive."],
};

/**
 * Requests Node cannot parse (headers over its 16 KB limit, broken framing) never reach a
 * route; by default Node answers them with a bare status line. This answers them the way
 * the routes answer bad input: a typed JSON error, then the connection closes.
 */
export function answerUnparsableRequests(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = STATUS_OF_PARSE_ERROR[error.code ?? ""] ?? [
      400,
      "Bad Request",
      "The request is not valid HTTP.",
    ];
    const body = JSON.stringify({ error: { code: codeOf(status), message } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

function codeOf(status: number): string {
  if (status === 431) return "REQUEST_HEADER_FIELDS_TOO_LARGE";
  if (status === 408) return "TIMEOUT";
  return "BAD_REQUEST";
}

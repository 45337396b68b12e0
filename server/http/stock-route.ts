import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { liveStockDealSegment, liveStockInputSchema } from "@/lib/deals/live-stock";
import { fieldErrorsOf, firstInputMessage } from "@/lib/wire/error-contract";
import { readCookie, SESSION_COOKIE } from "../auth/session";
import { DomainError } from "../errors";
import { log } from "../log";
import type { Services } from "../services";
import type { StreamSlot } from "../streams/stream-slots";
import {
  domainRefusal,
  type HttpAnswer,
  INTERNAL_REFUSAL,
  jsonAnswer,
  type RouteRefusal,
  sendAnswer,
} from "./json-answer";

type StockServices = Pick<Services, "stockBroadcasts" | "discovery" | "streams" | "sessions">;

/** What a live-stock request is judged by. */
interface StockRequest {
  method: string | undefined;
  rawDealId: string;
  /** The client's address as the HTTP edge found it (clientAddress). */
  address: string;
  cookie: string | undefined;
}

const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  // nginx buffers responses unless told not to; a buffered stream is not live.
  "x-accel-buffering": "no",
};

/**
 * Checks a live-stock request: GET, a well-formed id, a place among the streams its address
 * and account may hold, a deal that exists. Answers the deal id and the place (released when
 * the stream ends), or the refusal to send. A deal with viewers on this process is known, so a
 * crowd of shoppers opening its page costs one lookup, not one each.
 */
async function admit(
  services: StockServices,
  req: StockRequest,
): Promise<{ dealId: string; slot: StreamSlot } | HttpAnswer> {
  if (req.method !== "GET") {
    return refusal({
      status: 405,
      error: { code: "METHOD_NOT_SUPPORTED", message: "Live stock is read with GET." },
    });
  }
  const parsed = liveStockInputSchema.safeParse({ dealId: req.rawDealId });
  if (!parsed.success) {
    const fieldErrors = fieldErrorsOf(parsed.error);
    const message = firstInputMessage(fieldErrors) ?? "Invalid deal id.";
    return refusal({ status: 400, error: { code: "BAD_REQUEST", message, fieldErrors } });
  }
  const { dealId } = parsed.data;
  let slot: StreamSlot | undefined;
  try {
    const session = await services.sessions.read(readCookie(req.cookie ?? null, SESSION_COOKIE));
    slot = services.streams.take({ address: req.address, accountId: session?.userId });
    if (!services.stockBroadcasts.watched(dealId)) await services.discovery.byId(dealId);
    return { dealId, slot };
  } catch (error) {
    slot?.release();
    if (DomainError.is(error)) return refusal(domainRefusal(error));
    log.error({ err: error, path: "live stock" }, "live stock route failed");
    return refusal(INTERNAL_REFUSAL);
  }
}

const refusal = ({ status, error }: RouteRefusal) => jsonAnswer(status, { error }, "GET");

/**
 * Tells EventSource to reconnect after 1 to 4 s, a different delay per stream: after a
 * restart, thousands of pages then come back spread over seconds rather than at once.
 */
const retryLine = () => Buffer.from(`retry: ${1_000 + Math.floor(Math.random() * 3_000)}\n\n`);

/**
 * `GET /api/deals/<dealId>/stock` on node:http, as the HTTP edge (server/http/http-edge.ts)
 * serves it, before Next sees the request. A stream costs its socket and a few small objects.
 */
export function createNodeStockRoute(services: StockServices) {
  const broadcasts = services.stockBroadcasts;
  return async (req: IncomingMessage, res: ServerResponse, address: string) => {
    const admitted = await admit(services, {
      method: req.method,
      rawDealId: decodeSegment(req.url),
      address,
      cookie: req.headers.cookie,
    });
    if ("status" in admitted) {
      sendAnswer(req, res, admitted);
      return;
    }
    // The reader left while the deal was looked up: 'close' has been and gone.
    if (!res.socket || res.socket.destroyed) return admitted.slot.release();
    log.debug({ dealId: admitted.dealId, client: address }, "live stock stream opened");
    res.writeHead(200, STREAM_HEADERS);
    res.write(retryLine());
    const viewer = broadcasts.join(admitted.dealId, { write: (chunk) => res.write(chunk) });
    res.on("drain", viewer.drained);
    // However the stream ends (the reader leaves, the socket fails, the server closes it).
    res.once("close", () => {
      viewer.leave();
      admitted.slot.release();
    });
  };
}

/** The deal id in the URL, decoded; text the schema refuses when it does not decode. */
function decodeSegment(url: string | undefined): string {
  const segment = liveStockDealSegment(url) ?? "";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { liveStockDealSegment, liveStockInputSchema } from "@/lib/deals/live-stock";
import { clientIp } from "../api/context";
import { fieldErrorsOf, firstInputMessage } from "../api/error-codes";
import { readCookie, SESSION_COOKIE } from "../auth/session";
import type { StockSink } from "../deals/stock-broadcast";
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
} from "./json-answer";

type StockServices = Pick<Services, "stockBroadcasts" | "discovery" | "streams" | "sessions">;

/** A live-stock request as both transports see it. */
interface StockRequest {
  method: string | undefined;
  rawDealId: string;
  header(name: string): string | undefined;
  /** The socket's peer address, when the transport has one. */
  peer?: string;
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
    slot = services.streams.take({
      address: clientIp(req.header("x-forwarded-for"), req.header("x-real-ip"), req.peer),
      accountId: services.sessions.read(readCookie(req.header("cookie") ?? null, SESSION_COOKIE))
        ?.userId,
    });
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
 * `GET /api/deals/<dealId>/stock` on plain node:http: the production servers answer it with
 * this, before Next sees the request. A stream costs its socket and a few small objects.
 */
export function createNodeStockRoute(services: StockServices) {
  const broadcasts = services.stockBroadcasts;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const admitted = await admit(services, {
      method: req.method,
      rawDealId: decodeSegment(req.url),
      header: (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      },
      peer: req.socket.remoteAddress,
    });
    if ("status" in admitted) {
      res.writeHead(admitted.status, admitted.headers).end(admitted.body);
      return;
    }
    // The reader left while the deal was looked up: 'close' has been and gone.
    if (!res.socket || res.socket.destroyed) return admitted.slot.release();
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

/**
 * The same route as a fetch handler, for `next dev` and `next start`
 * (app/api/deals/[dealId]/stock): the same checks, broadcasts and frames, on a web stream.
 */
export async function answerFetchStock(
  services: StockServices,
  req: Request,
  dealId: string,
): Promise<Response> {
  const broadcasts = services.stockBroadcasts;
  const admitted = await admit(services, {
    method: req.method,
    rawDealId: dealId,
    header: (name) => req.headers.get(name) ?? undefined,
  });
  if ("status" in admitted) {
    const { status, headers, body } = admitted;
    return new Response(body, { status, headers });
  }
  const { slot } = admitted;
  let leave = () => slot.release();
  let drained = () => {};
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const sink: StockSink = {
          write(chunk) {
            try {
              controller.enqueue(chunk);
              return (controller.desiredSize ?? 0) > 0;
            } catch {
              return false; // closed under us: `cancel` removes the viewer
            }
          },
        };
        sink.write(retryLine());
        const viewer = broadcasts.join(admitted.dealId, sink);
        drained = viewer.drained;
        leave = () => {
          viewer.leave();
          slot.release();
        };
        if (req.signal.aborted) leave();
        else req.signal.addEventListener("abort", leave, { once: true });
      },
      pull: () => drained(),
      cancel: () => leave(),
    },
    // Counted in frames: a reader this many behind is sent only the newest count.
    { highWaterMark: 8 },
  );
  return new Response(stream, { headers: STREAM_HEADERS });
}

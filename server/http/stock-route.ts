import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { liveStockDealSegment, liveStockInputSchema } from "@/lib/deals/live-stock";
import { fieldErrorsOf, firstInputMessage } from "../api/error-codes";
import type { StockSink } from "../deals/stock-broadcast";
import { DomainError } from "../errors";
import { log } from "../log";
import type { Services } from "../services";
import {
  domainRefusal,
  type HttpAnswer,
  INTERNAL_REFUSAL,
  jsonAnswer,
  type RouteRefusal,
} from "./json-answer";

type StockServices = Pick<Services, "stockBroadcasts" | "discovery">;

const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  // nginx buffers responses unless told not to; a buffered stream is not live.
  "x-accel-buffering": "no",
};

/**
 * Checks a live-stock request: GET, a well-formed id, a deal that exists. Answers the deal id,
 * or the refusal to send. A deal with viewers on this process is known, so a crowd of
 * shoppers opening its page costs one lookup, not one each.
 */
async function admit(
  services: StockServices,
  method: string | undefined,
  rawDealId: string,
): Promise<{ dealId: string } | HttpAnswer> {
  if (method !== "GET") {
    return refusal({
      status: 405,
      error: { code: "METHOD_NOT_SUPPORTED", message: "Live stock is read with GET." },
    });
  }
  const parsed = liveStockInputSchema.safeParse({ dealId: rawDealId });
  if (!parsed.success) {
    const fieldErrors = fieldErrorsOf(parsed.error);
    const message = firstInputMessage(fieldErrors) ?? "Invalid deal id.";
    return refusal({ status: 400, error: { code: "BAD_REQUEST", message, fieldErrors } });
  }
  const { dealId } = parsed.data;
  if (services.stockBroadcasts.watched(dealId)) return { dealId };
  try {
    await services.discovery.byId(dealId);
    return { dealId };
  } catch (error) {
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
    const admitted = await admit(services, req.method, decodeSegment(req.url));
    if ("status" in admitted) {
      res.writeHead(admitted.status, admitted.headers).end(admitted.body);
      return;
    }
    if (!res.socket || res.socket.destroyed) return; // the reader left while the deal was looked up
    res.writeHead(200, STREAM_HEADERS);
    res.write(retryLine());
    const viewer = broadcasts.join(admitted.dealId, { write: (chunk) => res.write(chunk) });
    res.on("drain", viewer.drained);
    res.once("close", viewer.leave);
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
  const admitted = await admit(services, req.method, dealId);
  if ("status" in admitted) {
    const { status, headers, body } = admitted;
    return new Response(body, { status, headers });
  }
  let leave = () => {};
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
        ({ leave, drained } = broadcasts.join(admitted.dealId, sink));
        req.signal.addEventListener("abort", leave, { once: true });
      },
      pull: () => drained(),
      cancel: () => leave(),
    },
    // Counted in frames: a reader this many behind is sent only the newest count.
    { highWaterMark: 8 },
  );
  return new Response(stream, { headers: STREAM_HEADERS });
}

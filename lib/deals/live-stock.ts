import { z } from "zod";
import { idSchema } from "../ids";

/**
 * The live-stock route (server/http/stock-route.ts): `GET /api/deals/<dealId>/stock` answers
 * `text/event-stream`, served outside Next's per-request pipeline like the claim route. The
 * first event is the deal's count now, then one per change (coalesced, newest only for a
 * reader that fell behind); comment lines keep idle proxies from closing the stream.
 * Each event is `data: <LiveStock as JSON>`. Refusals are JSON `{ error: ApiErrorBody }`
 * (lib/wire/error-contract.ts):
 * 400 for a malformed id, 404 for an unknown deal, 405 for a method other than GET.
 */
export interface LiveStock {
  dealId: string;
  remaining: number;
  /** The quantity the units are out of: it may grow during a sale. */
  quantity: number;
  /** When the count was read (ms since the epoch): a later one supersedes an earlier one. */
  at: number;
}

export const liveStockInputSchema = z.object({ dealId: idSchema });

const LIVE_STOCK_PATH = /^\/api\/deals\/([^/?#]*)\/stock(?:[?#]|$)/;

export function liveStockUrl(dealId: string): string {
  return `/api/deals/${encodeURIComponent(dealId)}/stock`;
}

/** The deal id segment of a live-stock URL as sent (still percent-encoded), or null. */
export function liveStockDealSegment(url: string | undefined): string | null {
  return LIVE_STOCK_PATH.exec(url ?? "")?.[1] ?? null;
}

export const isLiveStockPath = (url: string | undefined) => liveStockDealSegment(url) !== null;

"use client";

import { useEffect, useState } from "react";
import { type LiveStock, liveStockUrl } from "./live-stock";

export interface LiveStockState {
  /** The newest count received for this deal; null until the first one arrives. */
  stock: LiveStock | null;
  /** Whether the stream is open now (EventSource reconnects by itself after a drop). */
  connected: boolean;
}

/**
 * EventSource gives up for good on an answer other than a stream (a 429 when this address or
 * account holds too many streams, a 503 during a restart): try again after 15 to 30 s.
 */
const reopenDelayMs = () => 15_000 + Math.floor(Math.random() * 15_000);

/** A deal's stock, live, from the live-stock route (see live-stock.ts). */
export function useLiveStock(dealId: string): LiveStockState {
  const [state, setState] = useState<LiveStockState>({ stock: null, connected: false });
  useEffect(() => {
    let source: EventSource;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    const open = () => {
      source = new EventSource(liveStockUrl(dealId));
      source.onopen = () => setState((now) => ({ ...now, connected: true }));
      source.onerror = () => {
        setState((now) => ({ ...now, connected: false }));
        if (source.readyState === EventSource.CLOSED) reopen = setTimeout(open, reopenDelayMs());
      };
      source.onmessage = (event: MessageEvent<string>) => {
        const stock = JSON.parse(event.data) as LiveStock;
        // After a reconnect the first count may come from another instance, read earlier.
        setState((now) =>
          now.stock?.dealId === stock.dealId && now.stock.at > stock.at
            ? { ...now, connected: true }
            : { stock, connected: true },
        );
      };
    };
    open();
    return () => {
      clearTimeout(reopen);
      source.close();
    };
  }, [dealId]);
  return state.stock?.dealId === dealId ? state : { stock: null, connected: state.connected };
}

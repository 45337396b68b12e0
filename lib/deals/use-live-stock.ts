"use client";

import { useEffect, useState } from "react";
import { type LiveStock, liveStockUrl } from "./live-stock";

export interface LiveStockState {
  /** The newest count received for this deal; null until the first one arrives. */
  stock: LiveStock | null;
  /** Whether the stream is open now (EventSource reconnects by itself after a drop). */
  connected: boolean;
}

/** A deal's stock, live, from the live-stock route (see live-stock.ts). */
export function useLiveStock(dealId: string): LiveStockState {
  const [state, setState] = useState<LiveStockState>({ stock: null, connected: false });
  useEffect(() => {
    const source = new EventSource(liveStockUrl(dealId));
    source.onopen = () => setState((now) => ({ ...now, connected: true }));
    source.onerror = () => setState((now) => ({ ...now, connected: false }));
    source.onmessage = (event: MessageEvent<string>) => {
      const stock = JSON.parse(event.data) as LiveStock;
      // After a reconnect the first count may come from another instance, read earlier.
      setState((now) =>
        now.stock?.dealId === stock.dealId && now.stock.at > stock.at
          ? { ...now, connected: true }
          : { stock, connected: true },
      );
    };
    return () => source.close();
  }, [dealId]);
  return state.stock?.dealId === dealId ? state : { stock: null, connected: state.connected };
}

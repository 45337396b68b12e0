import "server-only";
import type { Server, ServerResponse } from "node:http";

export interface DrainReport {
  /** Requests (streams included) still open when the deadline passed, whose sockets were cut. */
  cut: number;
  /** Streams ended at the start of the drain, for their readers to reconnect elsewhere. */
  streamsEnded: number;
}

/**
 * The requests a server has in hand, and how it stops taking more: `drain` stops accepting
 * connections, lets every request in hand finish (until a deadline), and answers each with
 * `Connection: close`, so that no kept-alive connection carries a new request in after it.
 * Node's `server.close()` alone does not do that: a kept-alive connection that is busy when
 * it is called goes on serving whatever requests come on it.
 *
 * Streams (server-sent events: live stock, the sale monitor) never finish by themselves; they
 * are ended at once, cleanly, and their EventSource reconnects through the proxy to a server
 * that is not stopping (the live-stock stream tells it to wait 1 to 4 s first).
 */
export class RequestDrain {
  private readonly open = new Set<ServerResponse>();
  private draining = false;
  private allDone: (() => void) | null = null;

  get isDraining(): boolean {
    return this.draining;
  }

  /** Called for every request, first thing: two set operations and a listener. */
  track(res: ServerResponse): void {
    this.open.add(res);
    if (this.draining) res.setHeader("connection", "close");
    res.once("close", () => {
      this.open.delete(res);
      if (this.open.size === 0) this.allDone?.();
    });
  }

  async drain(server: Server, deadlineMs: number): Promise<DrainReport> {
    this.draining = true;
    server.close();
    server.closeIdleConnections();
    let streamsEnded = 0;
    for (const res of this.open) {
      if (!res.headersSent) res.setHeader("connection", "close");
      else if (isEventStream(res)) {
        streamsEnded++;
        // A broadcast may still write to it before its 'close' removes the viewer: swallowed.
        res.on("error", () => undefined);
        res.end();
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      if (this.open.size === 0) return resolve();
      this.allDone = resolve;
      timer = setTimeout(resolve, deadlineMs);
    });
    clearTimeout(timer);
    const cut = this.open.size;
    // What is left is past the deadline, or idle kept-alive sockets between two requests.
    server.closeAllConnections();
    return { cut, streamsEnded };
  }
}

function isEventStream(res: ServerResponse): boolean {
  return String(res.getHeader("content-type") ?? "").startsWith("text/event-stream");
}

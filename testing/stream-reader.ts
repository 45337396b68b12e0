import http from "node:http";
import type { LiveStock } from "@/lib/deals/live-stock";

/**
 * One live-stock stream, read as EventSource would: every count it is sent. `localAddress`
 * opens it from another loopback address (127.0.0.2, …), a client of its own.
 */
export class StreamReader {
  readonly counts: number[] = [];
  readonly frames: LiveStock[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  text = "";
  /** Set once the stream has ended, by either side. */
  ended = false;
  /** Set when the server ended it cleanly (its last chunk came), rather than cutting it. */
  completed = false;
  private readonly request: http.ClientRequest;

  constructor(url: string, headers: Record<string, string> = {}, localAddress?: string) {
    this.request = http.get(url, {
      agent: false,
      localAddress,
      headers: { accept: "text/event-stream", ...headers },
    });
    this.request.on("error", () => {
      this.ended = true;
    });
    this.request.on("response", (response) => {
      this.status = response.statusCode ?? 0;
      this.headers = response.headers;
      response.setEncoding("utf8");
      let pending = "";
      response.on("data", (chunk: string) => {
        this.text += chunk;
        const frames = (pending + chunk).split("\n\n");
        pending = frames.pop() ?? "";
        for (const frame of frames) {
          if (!frame.startsWith("data: ")) continue;
          const stock = JSON.parse(frame.slice(6)) as LiveStock;
          this.frames.push(stock);
          this.counts.push(stock.remaining);
        }
      });
      response.on("end", () => {
        this.completed = true;
      });
      response.on("close", () => {
        this.ended = true;
      });
    });
  }

  close() {
    this.request.destroy();
  }
}

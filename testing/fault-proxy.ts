import { once } from "node:events";
import net from "node:net";

/**
 * A TCP proxy on a free loopback port that a fault test puts between the app and a server
 * (Postgres here), so that the test can take the server "down" for the app alone while
 * every other test keeps using the real one.
 *
 * Down, as a server that shut down or crashed looks to its clients: live connections are
 * closed, and new ones are refused (reset as soon as they arrive, so a client fails at once
 * instead of waiting for a timeout). Silent, as a network that drops packets looks: every
 * connection stays open and nothing passes either way, so a client waits for an answer that
 * never comes. Up: connections pass again (those silenced are closed, as a connection
 * whose packets were lost is by then).
 */
export interface FaultProxy {
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  down(): void;
  silent(): void;
  up(): void;
  readonly isDown: boolean;
  /**
   * Arms a cut at the worst moment of one statement: the first client message that contains
   * `marker` (say, an id bound as a parameter) reaches the server, and when the server's
   * answer comes back it is dropped and the proxy goes down. The statement ran; the client
   * never hears so.
   */
  downAfterAnswerTo(marker: string): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
  /** The marked statement went through this pair; its answer triggers the cut. */
  armed: boolean;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let isDown = false;
  let isSilent = false;
  let trap: Buffer | null = null;

  const tearDown = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.server.destroy();
    }
    pairs.clear();
  };
  const goDown = () => {
    isDown = true;
    tearDown();
  };

  const proxy = net.createServer((client) => {
    client.on("error", () => undefined);
    if (isDown) {
      client.resetAndDestroy();
      return;
    }
    const server = net.connect(target.port, target.host);
    server.on("error", () => undefined);
    const pair: Pair = { client, server, armed: false };
    pairs.add(pair);
    const forget = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("close", forget);
    server.on("close", forget);

    client.on("data", (chunk: Buffer) => {
      if (isSilent) return;
      if (trap && chunk.includes(trap)) pair.armed = true;
      server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      if (isSilent) return;
      if (pair.armed && trap) {
        trap = null;
        goDown();
        return;
      }
      client.write(chunk);
    });
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const { port } = proxy.address() as net.AddressInfo;

  return {
    via(url) {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(port);
      return proxied.toString();
    },
    down: goDown,
    silent() {
      isSilent = true;
    },
    up() {
      if (isSilent) tearDown();
      isSilent = false;
      isDown = false;
    },
    get isDown() {
      return isDown;
    },
    downAfterAnswerTo(marker) {
      trap = Buffer.from(marker);
    },
    async close() {
      goDown();
      trap = null;
      proxy.close();
      await once(proxy, "close");
    },
  };
}

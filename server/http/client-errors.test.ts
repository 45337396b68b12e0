import { once } from "node:events";
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerUnparsableRequests } from "./client-errors";

/** Sends raw bytes and returns everything the server wrote back before closing. */
async function rawExchange(port: number, request: string): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  socket.write(request);
  await once(socket, "close");
  return Buffer.concat(chunks).toString("utf8");
}

describe("requests Node cannot parse", () => {
  let server: Server;
  let port: number;
  let routeCalls = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      routeCalls++;
      res.end("routed");
    });
    answerUnparsableRequests(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));

  it("answers headers over the limit with a typed 431 in JSON, never reaching a route", async () => {
    const huge = "x".repeat(20_000);
    const raw = await rawExchange(
      port,
      `POST /api/claim HTTP/1.1\r\nhost: a\r\ncookie: ${huge}\r\ncontent-length: 0\r\n\r\n`,
    );
    expect(raw.startsWith("HTTP/1.1 431 ")).toBe(true);
    expect(raw).toContain("content-type: application/json");
    expect(bodyOf(raw)).toEqual({
      error: {
        code: "REQUEST_HEADER_FIELDS_TOO_LARGE",
        message: "The request's headers are too large.",
      },
    });
    expect(routeCalls).toBe(0);
  });

  it("answers broken framing with a typed 400 in JSON", async () => {
    const raw = await rawExchange(port, "NOT HTTP AT ALL\r\n\r\n");
    expect(raw.startsWith("HTTP/1.1 400 ")).toBe(true);
    expect(bodyOf(raw).error.code).toBe("BAD_REQUEST");
    expect(routeCalls).toBe(0);
  });
});

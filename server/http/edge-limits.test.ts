import { once } from "node:events";
import { connect } from "node:net";
import { count } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { TRPC_MAX_BATCH } from "@/lib/trpc/trpc-wire";
import { type EdgeWorld, openEdgeWorld } from "@/testing/edge-world";
import { sendFrom } from "@/testing/loopback-client";

/**
 * Issue 14, item 3 at the edge: a tRPC batch holds at most TRPC_MAX_BATCH calls (more is a
 * typed 400 before any procedure runs), and every route reads at most its body limit (413,
 * typed), refusing a huge body without waiting for it, let alone keeping it.
 */

let world: EdgeWorld;
beforeAll(async () => {
  world = await openEdgeWorld();
});
afterAll(() => world?.close());

const BODY_LIMIT = 262_144; // HTTP_MAX_BODY_BYTES's default
const JSON_TYPE = { "content-type": "application/json" };
/** Each test from its own address: the sign-up limit (10 an hour) counts per address. */
let peers = 10;
const nextPeer = () => `127.0.0.${peers++}`;

const accounts = async () => (await world.database.db.select({ n: count() }).from(users))[0]?.n;

const signUpInput = () => ({
  json: {
    email: `${newId().toLowerCase()}@limits.test`,
    password: "long enough pw",
    displayName: "L",
  },
});

/** The tRPC error of each call in a batch answer (or of the one call). */
function trpcErrors(text: string): { code?: string; message?: string }[] {
  const body = JSON.parse(text) as { error?: unknown } | { error?: unknown }[];
  return (Array.isArray(body) ? body : [body]).map((item) => {
    const shape = superjson.deserialize<{ message: string; data: { code: string } }>(
      item.error as never,
    );
    return { code: shape?.data?.code, message: shape?.message };
  });
}

describe("tRPC batches", () => {
  it(`run up to ${TRPC_MAX_BATCH} calls; one more is a typed 400 and no call runs`, async () => {
    const paths = (n: number) => Array.from({ length: n }, () => "auth.signUp").join(",");
    const inputs = (n: number) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, signUpInput()])));
    const before = await accounts();
    const tooMany = await sendFrom(nextPeer(), `${world.baseUrl}/api/trpc/${paths(11)}?batch=1`, {
      method: "POST",
      headers: JSON_TYPE,
      body: inputs(11),
    });
    expect(tooMany.status).toBe(400);
    expect(trpcErrors(tooMany.text)).toEqual([
      { code: "BAD_REQUEST", message: "Batch call exceeds maximum size" },
    ]);
    expect(await accounts()).toBe(before);

    const queries = Array.from({ length: TRPC_MAX_BATCH }, () => "deals.list").join(",");
    const input = encodeURIComponent(JSON.stringify({}));
    const handful = await sendFrom(
      nextPeer(),
      `${world.baseUrl}/api/trpc/${queries}?batch=1&input=${input}`,
      {},
    );
    expect(handful.status).toBe(200);
    expect(JSON.parse(handful.text)).toHaveLength(TRPC_MAX_BATCH);
  });

  it("a 15 KB GET of a thousand queries runs none of them", async () => {
    const queries = Array.from({ length: 1_400 }, () => "deals.list").join(",");
    const answer = await sendFrom(nextPeer(), `${world.baseUrl}/api/trpc/${queries}?batch=1`, {});
    expect(answer.status).toBe(400);
    expect(trpcErrors(answer.text)).toHaveLength(1);
  });
});

describe("request bodies", () => {
  const tooLarge = {
    code: "PAYLOAD_TOO_LARGE",
    message: `A request body is at most ${BODY_LIMIT} bytes.`,
  };
  const overLimit = JSON.stringify({ json: { email: "x@y.z", password: "x".repeat(BODY_LIMIT) } });

  it("tRPC: past HTTP_MAX_BODY_BYTES, declared or chunked, a 413 in tRPC's shape, and nothing done", async () => {
    const before = await accounts();
    for (const chunked of [false, true]) {
      const answer = await sendFrom(nextPeer(), `${world.baseUrl}/api/trpc/auth.signUp`, {
        method: "POST",
        headers: JSON_TYPE,
        body: overLimit,
        chunked,
      });
      expect(answer.status).toBe(413);
      expect(trpcErrors(answer.text)).toEqual([tooLarge]);
    }
    expect(await accounts()).toBe(before);
    const within = await sendFrom(nextPeer(), `${world.baseUrl}/api/trpc/auth.signUp`, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify(signUpInput()),
    });
    expect(within.status).toBe(200);
  });

  it("pages (Next): a body declared past the limit is a typed 413, one of no declared length a 411, and neither reaches Next", async () => {
    const declared = await sendFrom(nextPeer(), `${world.baseUrl}/sign-in`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x".repeat(BODY_LIMIT + 1),
    });
    expect([declared.status, JSON.parse(declared.text)]).toEqual([413, { error: tooLarge }]);
    const chunked = await sendFrom(nextPeer(), `${world.baseUrl}/sign-in`, {
      method: "POST",
      body: "x",
      chunked: true,
    });
    expect([chunked.status, JSON.parse(chunked.text).error.code]).toEqual([411, "LENGTH_REQUIRED"]);
    expect(world.reachedNext).toEqual([]);
    const small = await sendFrom(nextPeer(), `${world.baseUrl}/sign-in`, {
      method: "POST",
      body: "x",
    });
    expect(small.status).toBe(200);
    expect(world.reachedNext).toEqual(["POST /sign-in"]);
  });

  /**
   * Sends the head of a 200 MB POST and then body bytes without end, and answers what the
   * server said: it must answer without waiting for the rest of the body.
   */
  async function hugePost(path: string, framing: "content-length" | "chunked") {
    const { port } = new URL(world.baseUrl);
    const socket = connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    let answer = "";
    socket.setEncoding("utf8");
    const answered = new Promise<void>((resolve) => {
      socket.on("data", (chunk: string) => {
        answer += chunk;
        if (answer.includes("\r\n\r\n")) resolve();
      });
    });
    socket.on("error", () => undefined); // the server closes on us mid-send: that is the point
    const length =
      framing === "chunked" ? "Transfer-Encoding: chunked" : "Content-Length: 209715200";
    const cookie = `Cookie: ${await world.shopperCookie()}`;
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${cookie}\r\n${length}\r\n\r\n`,
    );
    const piece = Buffer.alloc(65_536, "x");
    const frame = framing === "chunked" ? `${piece.length.toString(16)}\r\n` : "";
    let sending = true;
    void answered.then(() => {
      sending = false;
    });
    // Megabytes more than any limit, and never the end of the body.
    for (let sent = 0; sending && sent < 8 * 1_048_576; sent += piece.length) {
      const more = socket.write(frame) && socket.write(piece) && socket.write(frame ? "\r\n" : "");
      if (!more) await Promise.race([once(socket, "drain"), answered, once(socket, "close")]);
      if (socket.destroyed) break;
    }
    // A server reading on would never answer: after 8 MB this stops waiting and says so.
    const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, 20_000).unref());
    await Promise.race([answered, gaveUp]);
    socket.destroy();
    return answer.split("\r\n")[0] ?? "no answer";
  }

  it("a 200 MB POST, declared or chunked, is refused with 413 without the server waiting for it", async () => {
    for (const framing of ["content-length", "chunked"] as const) {
      expect(await hugePost("/api/trpc/auth.signUp", framing), framing).toBe(
        "HTTP/1.1 413 Payload Too Large",
      );
      expect(await hugePost("/api/claim", framing), framing).toBe("HTTP/1.1 413 Payload Too Large");
    }
  });
});

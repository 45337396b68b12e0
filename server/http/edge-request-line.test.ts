import { once } from "node:events";
import { connect } from "node:net";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeWorld, openEdgeWorld } from "@/testing/edge-world";
import { sendFrom } from "@/testing/loopback-client";

/**
 * The request line as the edge takes it. Issue 14, item 10: a URL with a malformed
 * percent-escape is a typed 400 on every route, the pages Next serves included (Next answered
 * 500), and reaches no route that would decode it. A method no fetch Request can carry
 * (TRACE) is a typed 405 on tRPC, not the 500 of a Request that could not be built.
 */

let world: EdgeWorld;
beforeAll(async () => {
  world = await openEdgeWorld();
});
afterAll(() => world?.close());

const MALFORMED = "The URL has a malformed percent-escape: encode it with encodeURIComponent.";
const get = (path: string) => sendFrom("127.0.0.2", `${world.baseUrl}${path}`, {});

describe("a malformed percent-escape", () => {
  it("in a page's path or query: a typed 400, and Next never sees it", async () => {
    for (const path of ["/deals/%E0%A4%A", "/%zz", "/sign-in?next=%", "/_next/static/%C0"]) {
      const answer = await get(path);
      expect([answer.status, JSON.parse(answer.text)], path).toEqual([
        400,
        { error: { code: "BAD_REQUEST", message: MALFORMED } },
      ]);
    }
    expect(world.reachedNext).toEqual([]);
    expect((await get("/deals/%20x?q=%C3%A9")).status).toBe(200); // well-formed: Next's to answer
    expect(world.reachedNext).toEqual(["GET /deals/%20x?q=%C3%A9"]);
  });

  it("on tRPC, in the input or the path: a 400 in tRPC's error shape", async () => {
    const trpcError = async (path: string) => {
      const answer = await get(path);
      const { error } = JSON.parse(answer.text) as { error: never };
      const shape = superjson.deserialize<{ message: string; data: { code: string } }>(error);
      return [answer.status, shape.data.code, shape.message];
    };
    expect(await trpcError("/api/trpc/deals.list?input=%E0%A4%A")).toEqual([
      400,
      "BAD_REQUEST",
      MALFORMED,
    ]);
    // tRPC decodes the path itself, and says so in its own words.
    expect(await trpcError("/api/trpc/deals.list%E0%A4%A")).toEqual([
      400,
      "BAD_REQUEST",
      'Invalid URL-encoding in path "deals.list%E0%A4%A"',
    ]);
  });

  it("on the claim and live-stock routes: a typed 400", async () => {
    const claim = await get("/api/claim?from=%E0%A4%A");
    expect([claim.status, JSON.parse(claim.text).error.code]).toEqual([400, "BAD_REQUEST"]);
    const stock = await get("/api/deals/%E0%A4%A/stock");
    expect([stock.status, JSON.parse(stock.text).error.fieldErrors]).toEqual([
      400,
      { dealId: [expect.any(String)] },
    ]);
  });
});

describe("a method a fetch Request cannot carry", () => {
  it("TRACE on tRPC: a typed 405", async () => {
    const socket = connect(Number(new URL(world.baseUrl).port), "127.0.0.1");
    await once(socket, "connect");
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.write("TRACE /api/trpc/deals.list HTTP/1.0\r\nHost: x\r\n\r\n");
    await once(socket, "end");
    const [head = "", body = ""] = answer.split("\r\n\r\n");
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 405 Method Not Allowed");
    const shape = superjson.deserialize<{ data: { code: string } }>(JSON.parse(body).error);
    expect(shape.data.code).toBe("METHOD_NOT_SUPPORTED");
  });
});

import { request } from "node:http";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { liveStockUrl } from "@/lib/deals/live-stock";
import { newId } from "@/lib/ids";
import {
  gateAddressCounters,
  LIMITED_ON_THE_ELEVENTH,
  signUp as signUpAt,
  signUpsUntilLimited as signUpsUntilLimitedAt,
  spoofed,
} from "@/testing/address-limits";
import { EDGE_PROXY, type EdgeWorld, openEdgeWorld } from "@/testing/edge-world";
import { sendFrom } from "@/testing/loopback-client";
import { log } from "../log";

/**
 * Issue 14, item 1: the client's address is the socket's peer unless that peer is a trusted
 * proxy, on every route the edge serves: the claim route (the gate's per-address counter),
 * tRPC (the sign-up limit, 10 an hour per address) and live stock (the stream's client).
 * The edge world trusts 127.0.0.1 alone; 127.0.0.2 and up are peers of their own.
 */

/**
 * Every sign-up here hashes a password at OWASP's cost (128 MiB of scrypt), eleven in a row
 * per test: on a loaded 2-core machine that alone went past the default 60 s. The tests
 * measure who is limited, never how fast, so they get room rather than a cheaper hash.
 */
vi.setConfig({ testTimeout: 300_000 });

let world: EdgeWorld;
beforeAll(async () => {
  world = await openEdgeWorld();
});
afterAll(() => world?.close());

const signUpsUntilLimited = (from: string, headersOf: (i: number) => Record<string, string>) =>
  signUpsUntilLimitedAt(world.baseUrl, from, headersOf);
const signUp = (from: string, headers: Record<string, string> = {}) =>
  signUpAt(world.baseUrl, from, headers);

async function claimFrom(from: string, headers: Record<string, string>) {
  const answer = await sendFrom(from, `${world.baseUrl}/api/claim`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      cookie: await world.shopperCookie(),
      ...headers,
    },
    body: JSON.stringify({ dealId: world.dealId, idempotencyKey: `edge-${newId()}` }),
  });
  expect(answer.status, answer.text).toBe(200);
}

const expectCountedUnder = (addresses: string[], claims: () => Promise<void>) =>
  gateAddressCounters(world.services.redis as Redis, world.prefix, world.dealId).expectCountedUnder(
    addresses,
    claims,
  );

/** Opens a live-stock stream from `from`, and answers the client the route logged for it. */
async function streamClient(from: string, headers: Record<string, string>): Promise<unknown> {
  const opened = vi.spyOn(log, "debug");
  try {
    await new Promise<void>((resolve, reject) => {
      const url = `${world.baseUrl}${liveStockUrl(world.dealId)}`;
      const req = request(url, { headers, localAddress: from }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", reject);
      req.end();
    });
    const [fields] =
      opened.mock.calls.find(([, message]) => message === "live stock stream opened") ?? [];
    return (fields as { client?: string } | undefined)?.client;
  } finally {
    opened.mockRestore();
  }
}

describe("a peer that is no proxy of ours", () => {
  it("cannot change its address with X-Forwarded-For, on any route", async () => {
    const peer = "127.0.0.2";
    await expectCountedUnder([peer], async () => {
      for (let i = 0; i < 3; i++) await claimFrom(peer, spoofed(i));
    });
    expect(await streamClient(peer, spoofed(7))).toBe(peer);
    expect(await signUpsUntilLimited(peer, () => spoofed(1))).toEqual(LIMITED_ON_THE_ELEVENTH);
  });

  it("cannot escape a per-address limit by varying the header: sign-up, and the claim gate's counter", async () => {
    const peer = "127.0.0.3";
    expect(await signUpsUntilLimited(peer, spoofed)).toEqual(LIMITED_ON_THE_ELEVENTH);
    // Past what one shopper may try (20 per deal per 10 s): many shoppers, one address.
    await expectCountedUnder([peer], async () => {
      for (let i = 0; i < 30; i++) await claimFrom(peer, spoofed(1_000 + i));
    });
  });

  it("and another such peer, both without a proxy header, do not share one bucket", async () => {
    expect(await signUpsUntilLimited("127.0.0.4", () => ({}))).toEqual(LIMITED_ON_THE_ELEVENTH);
    expect(await signUp("127.0.0.5")).toBe(200);
    await expectCountedUnder(["127.0.0.4", "127.0.0.5"], async () => {
      await claimFrom("127.0.0.4", {});
      await claimFrom("127.0.0.5", {});
    });
  });
});

describe("a trusted proxy", () => {
  it("is believed, from the right: the client is the hop it names, not what the client wrote", async () => {
    // The client wrote 6.6.6.6 itself; our proxy appended the address it saw.
    const header = (client: string) => ({ "x-forwarded-for": `6.6.6.6, ${client}` });
    await expectCountedUnder(["203.0.113.50"], () => claimFrom(EDGE_PROXY, header("203.0.113.50")));
    expect(await streamClient(EDGE_PROXY, header("203.0.113.51"))).toBe("203.0.113.51");
    // Ten sign-ups from one client behind the proxy, whatever it writes to the left: limited.
    const padded = (i: number) => ({ "x-forwarded-for": `10.0.0.${i}, 203.0.113.52` });
    expect(await signUpsUntilLimited(EDGE_PROXY, padded)).toEqual(LIMITED_ON_THE_ELEVENTH);
    // Another client behind the same proxy has a bucket of its own.
    expect(await signUp(EDGE_PROXY, header("203.0.113.53"))).toBe(200);
  });
});

import { count } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claims, signingKeys, users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { type EdgeWorld, openEdgeWorld } from "@/testing/edge-world";
import { sendFrom } from "@/testing/loopback-client";
import { crossSiteRefusal } from "./same-origin";

/**
 * Issue 14, item 7: a state-changing request (a tRPC mutation, a claim, a device's sync) is
 * refused with a typed 403 when the browser says it came from another site (Origin or
 * Sec-Fetch-Site), and a tRPC mutation is taken as JSON only (415 otherwise), so that a page
 * elsewhere cannot make a visitor's browser act with their cookie.
 */

let world: EdgeWorld;
let adminCookie: string;
beforeAll(async () => {
  world = await openEdgeWorld();
  const id = newId();
  const admin = { id, email: `${id.toLowerCase()}@admin.test`, displayName: "Admin" };
  await world.database.db
    .insert(users)
    .values({ ...admin, passwordHash: "not-a-sign-in-account", role: "admin" });
  const token = await world.services.sessions.issue({
    userId: id,
    role: "admin",
    displayName: "A",
  });
  adminCookie = `dd_session=${token}`;
});
afterAll(() => world?.close());

let peers = 10;
const nextPeer = () => `127.0.0.${peers++}`;
const host = () => new URL(world.baseUrl).host;
const JSON_TYPE = { "content-type": "application/json" };

async function rowCounts() {
  const { db } = world.database;
  const [[keys], [claimed], [accounts]] = await Promise.all([
    db.select({ n: count() }).from(signingKeys),
    db.select({ n: count() }).from(claims),
    db.select({ n: count() }).from(users),
  ]);
  return { keys: keys?.n, claimed: claimed?.n, accounts: accounts?.n };
}

/** A mutation's status and tRPC code, sent with these headers. */
async function mutate(path: string, input: unknown, headers: Record<string, string>) {
  const answer = await sendFrom(nextPeer(), `${world.baseUrl}/api/trpc/${path}`, {
    method: "POST",
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify(superjson.serialize(input)),
  });
  const { error } = JSON.parse(answer.text) as {
    error?: Parameters<typeof superjson.deserialize>[0];
  };
  const shape = error && superjson.deserialize<{ data: { code: string } }>(error);
  return [answer.status, shape?.data.code ?? "OK"].join(" ");
}

const signUp = () => ({
  email: `${newId().toLowerCase()}@origin.test`,
  password: "long enough pw",
  displayName: "O",
});

/** What a browser sends from another site's page (Sec-Fetch-Site wins over a matching Origin). */
const foreignHeaders = (): Record<string, string>[] => [
  { origin: "https://evil.example" },
  { origin: "null" },
  { origin: `http://${host()}.evil.example` },
  { "sec-fetch-site": "cross-site" },
  { "sec-fetch-site": "same-site" },
  { origin: `http://${host()}`, "sec-fetch-site": "cross-site" },
];

describe("a mutation another site's page makes a browser send", () => {
  it("is refused with a typed 403 and does nothing: an admin's key staging, a sign-up, a device's sync, a claim", async () => {
    const shopper = await world.shopperCookie();
    const before = await rowCounts();
    for (const headers of foreignHeaders()) {
      const label = JSON.stringify(headers);
      expect(
        await mutate("admin.stageSigningKey", undefined, { ...headers, cookie: adminCookie }),
        label,
      ).toBe("403 FORBIDDEN");
      expect(await mutate("auth.signUp", signUp(), headers), label).toBe("403 FORBIDDEN");
      // Refused before the credential is looked at (401 otherwise).
      const sync = { redemptions: [] };
      const device = { ...headers, "x-device-credential": "AAAAAAAAAAAA.secret" };
      expect(await mutate("device.syncRedemptions", sync, device), label).toBe("403 FORBIDDEN");
      const claim = await sendFrom(nextPeer(), `${world.baseUrl}/api/claim`, {
        method: "POST",
        headers: { ...JSON_TYPE, ...headers, cookie: shopper },
        body: JSON.stringify({ dealId: world.dealId, idempotencyKey: `origin-${newId()}` }),
      });
      expect([claim.status, JSON.parse(claim.text).error?.code], label).toEqual([403, "FORBIDDEN"]);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("from the app's own pages, or from a client that is no browser (no Origin, no Sec-Fetch-Site), is served", async () => {
    const owns: Record<string, string>[] = [
      { origin: `http://${host()}`, "sec-fetch-site": "same-origin" },
      { origin: `http://${host()}` },
      { "sec-fetch-site": "same-origin" },
      {},
    ];
    for (const own of owns) {
      expect(await mutate("auth.signUp", signUp(), own), JSON.stringify(own)).toBe("200 OK");
    }
    const claim = await sendFrom(nextPeer(), `${world.baseUrl}/api/claim`, {
      method: "POST",
      headers: { ...JSON_TYPE, origin: `http://${host()}`, cookie: await world.shopperCookie() },
      body: JSON.stringify({ dealId: world.dealId, idempotencyKey: `origin-${newId()}` }),
    });
    expect(claim.status).toBe(200);
  });

  it("as a form or as text (no CORS preflight): 415, whatever its origin, and nothing done", async () => {
    const before = await rowCounts();
    const email = `${newId().toLowerCase()}@origin.test`;
    for (const type of [
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/jsonx",
    ]) {
      const answer = await sendFrom(nextPeer(), `${world.baseUrl}/api/trpc/auth.signUp`, {
        method: "POST",
        headers: { "content-type": type, origin: `http://${host()}` },
        body: `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${email}\r\n--x--`,
      });
      expect(answer.status, type).toBe(415);
      expect(answer.text).toContain("Send tRPC calls as application/json.");
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("a query from another site is still answered: reading is what CORS guards, and it changes nothing", async () => {
    const input = encodeURIComponent(JSON.stringify({ json: {} }));
    const answer = await sendFrom(
      nextPeer(),
      `${world.baseUrl}/api/trpc/deals.list?input=${input}`,
      {
        headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      },
    );
    expect(answer.status).toBe(200);
  });
});

describe("with PUBLIC_URL set, the app's origin is PUBLIC_URL's alone", () => {
  const headers = (values: Record<string, string>) => (name: string) => values[name];
  it("takes its exact origin, and refuses one the Host header happens to match", () => {
    const own = "https://shop.example";
    expect(crossSiteRefusal(headers({ origin: own, host: "shop.example" }), own)).toBeNull();
    expect(
      crossSiteRefusal(headers({ origin: "http://shop.example", host: "shop.example" }), own),
    ).toMatchObject({ status: 403 });
    expect(
      crossSiteRefusal(headers({ origin: "https://evil.example", host: "evil.example" }), own),
    ).toMatchObject({ status: 403 });
    expect(crossSiteRefusal(headers({ host: "shop.example" }), own)).toBeNull();
  });
});

import { newId } from "@/lib/ids";
import { log } from "@/server/log";
import type { Services } from "@/testing/wired-services";
import { createServerModeServices, serveEdge } from "./edge-server";
import { createDeal, createMerchant, createShoppers } from "./sale-fixtures";
import { createTestDatabase, type TestDatabase } from "./test-database";

/** The one peer the edge world trusts as a proxy; 127.0.0.2 and up are clients of their own. */
export const EDGE_PROXY = "127.0.0.1";

export interface EdgeWorld {
  services: Services;
  database: TestDatabase;
  prefix: string;
  /** The HTTP edge on EDGE_PROXY, tRPC included, with a recording stand-in for Next behind it. */
  baseUrl: string;
  /** Requests that reached the stand-in for Next: method and URL. */
  reachedNext: string[];
  /** A live deal with stock, and its merchant. */
  dealId: string;
  /** A shopper's session cookie, for a new shopper each call. */
  shopperCookie(): Promise<string>;
  close(): Promise<void>;
}

/**
 * An empty database (no demo seed), real Redis, and the HTTP edge as the app server runs it,
 * trusting EDGE_PROXY as a proxy hop unless `env` says otherwise.
 */
export async function openEdgeWorld(env: Record<string, string> = {}): Promise<EdgeWorld> {
  log.level = "error";
  const database = await createTestDatabase();
  const prefix = `test:${newId()}:`;
  const services = await createServerModeServices(database, prefix, {
    SESSION_SECRET: "edge-world session secret, long enough to be accepted",
    DEMO_SEED: "off",
    TRUSTED_PROXIES: EDGE_PROXY,
    ...env,
  });
  const reachedNext: string[] = [];
  const edge = await serveEdge(services, EDGE_PROXY, (req, res) => {
    reachedNext.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "text/html" }).end("<p>a page</p>");
  });
  const { id: merchantId } = await createMerchant(database.db);
  const deal = await createDeal(database.db, merchantId, { quantity: 1_000, now: new Date() });
  return {
    services,
    database,
    prefix,
    baseUrl: edge.baseUrl,
    reachedNext,
    dealId: deal.id,
    async shopperCookie() {
      const [userId = ""] = await createShoppers(database.db, 1);
      const token = await services.sessions.issue({ userId, role: "shopper", displayName: "S" });
      return `dd_session=${token}`;
    },
    async close() {
      await edge.close();
      const keys = await services.redis?.keys(`${prefix}*`);
      if (keys?.length) await services.redis?.del(...keys);
      await services.stop();
      await database.drop();
    },
  };
}

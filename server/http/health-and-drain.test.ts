import type { Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveStockUrl } from "@/lib/deals/live-stock";
import {
  HEALTHZ_PATH,
  livenessSchema,
  READYZ_PATH,
  readinessSchema,
} from "@/lib/ops/health-answers";
import { sendFrom } from "@/testing/loopback-client";
import { type PrivateRedis, startPrivateRedis } from "@/testing/private-redis";
import { createDeal, createMerchant } from "@/testing/sale-fixtures";
import { StreamReader } from "@/testing/stream-reader";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";
import { ReadinessCheck } from "../health/readiness";
import { log } from "../log";
import { createEdgeServer, createHttpEdge, type EdgeServer, type NodeHandler } from "./http-edge";

/**
 * Issue 21, item 2: `/healthz` and `/readyz` on the HTTP edge (both servers serve them), and
 * the edge's drain: it stops accepting, ends streams cleanly, lets requests in hand finish
 * with `Connection: close`, and cuts what is left at its deadline.
 */
let database: TestDatabase;
let redis: PrivateRedis;
let services: Services;
const servers: Server[] = [];

beforeAll(async () => {
  log.level = "fatal";
  database = await createTestDatabase();
  redis = await startPrivateRedis();
  services = await createServices(
    parseEnv({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      SESSION_SECRET: "health-and-drain session secret, long enough",
      DEMO_SEED: "off",
    }),
  );
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await services?.stop();
  await redis?.stop();
  await database?.drop();
});

async function listening<T extends Server>(server: T): Promise<{ server: T; baseUrl: string }> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const edgeServer = (fallback: NodeHandler) =>
  listening<EdgeServer>(createEdgeServer(services, { fallback }));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("/healthz and /readyz", () => {
  it("answer alive, and ready with every check, in their typed JSON", async () => {
    const { baseUrl } = await edgeServer((_, res) => void res.writeHead(404).end());
    const alive = await fetch(`${baseUrl}${HEALTHZ_PATH}`);
    expect(alive.status).toBe(200);
    expect(alive.headers.get("cache-control")).toBe("no-store");
    expect(livenessSchema.parse(await alive.json()).status).toBe("alive");

    const ready = await fetch(`${baseUrl}${READYZ_PATH}`);
    expect(ready.status).toBe(200);
    expect(readinessSchema.parse(await ready.json())).toEqual({
      status: "ready",
      checks: {
        postgres: { ok: true },
        redis: { ok: true },
        migrations: { ok: true },
        signingKey: { ok: true },
      },
    });
    expect((await fetch(`${baseUrl}${READYZ_PATH}`, { method: "POST" })).status).toBe(405);
  });

  it("answer 503 unready, naming Redis, while Redis is down, and ready once it is back", async () => {
    const { baseUrl } = await edgeServer((_, res) => void res.writeHead(404).end());
    await redis.kill();
    try {
      const down = await fetch(`${baseUrl}${READYZ_PATH}`);
      expect(down.status).toBe(503);
      const answer = readinessSchema.parse(await down.json());
      expect(answer.status).toBe("unready");
      expect(answer.checks.redis).toEqual({ ok: false, problem: "Redis does not answer" });
      expect(answer.checks.postgres).toEqual({ ok: true });
      // Alive all the while: a restart would not bring Redis back.
      expect((await fetch(`${baseUrl}${HEALTHZ_PATH}`)).status).toBe(200);
    } finally {
      await redis.restart();
    }
    await until("ready again", async () => (await fetch(`${baseUrl}${READYZ_PATH}`)).ok);
  });

  it("answer unready when a migration of this build is missing, or the signing key cannot be used", async () => {
    const other = await createTestDatabase();
    try {
      await other.db.execute(sql`DELETE FROM drizzle.__drizzle_migrations
        WHERE created_at = (SELECT max(created_at) FROM drizzle.__drizzle_migrations)`);
      const readiness = new ReadinessCheck({
        db: other.db,
        redis: null,
        signingKeys: { signingKey: () => Promise.reject(new Error("sealed with another secret")) },
      });
      const answer = await readiness.check();
      expect(answer.status).toBe("unready");
      expect(answer.checks).toEqual({
        postgres: { ok: true },
        migrations: { ok: false, problem: expect.stringMatching(/^migration \w+ is not applied$/) },
        signingKey: { ok: false, problem: "the voucher signing key cannot be used" },
      });
    } finally {
      await other.drop();
    }
  });

  it("answers 503 draining once the server is stopping", async () => {
    const edge = createHttpEdge(services, { fallback: (_, res) => void res.end() }, () => true);
    const { baseUrl } = await listening(createServer((req, res) => void edge(req, res)));
    const answer = await fetch(`${baseUrl}${READYZ_PATH}`);
    expect(answer.status).toBe(503);
    expect(readinessSchema.parse(await answer.json())).toEqual({ status: "draining", checks: {} });
  });
});

describe("the edge's drain", () => {
  it("stops accepting, ends streams cleanly, and lets the request in hand finish, then closes", async () => {
    const held: ServerResponse[] = [];
    const { server, baseUrl } = await edgeServer((_, res) => void held.push(res));
    const deal = await createDeal(database.db, (await createMerchant(database.db)).id, {
      quantity: 5,
      now: new Date(),
    });
    const stream = new StreamReader(`${baseUrl}${liveStockUrl(deal.id)}`);
    await until("the stream's first count", () => stream.counts.length > 0);
    const inHand = sendFrom("127.0.0.1", `${baseUrl}/a-slow-page`, {});
    await until("the page request in hand", () => held.length === 1);

    let drained = false;
    const draining = server.drain(10_000).then((report) => {
      drained = true;
      return report;
    });
    await until("the stream ended", () => stream.ended);
    expect(stream.completed).toBe(true);
    await expect(fetch(`${baseUrl}${HEALTHZ_PATH}`)).rejects.toThrow();
    expect(drained).toBe(false);

    held[0]?.writeHead(200, { "content-type": "text/plain" }).end("finished");
    const answer = await inHand;
    expect(answer).toMatchObject({ status: 200, text: "finished" });
    expect(answer.headers.connection).toBe("close");
    expect(await draining).toEqual({ cut: 0, streamsEnded: 1 });
  });

  it("cuts what is still in hand at its deadline", async () => {
    const reached: string[] = [];
    const { server, baseUrl } = await edgeServer((req) => void reached.push(req.url ?? ""));
    const stuck = sendFrom("127.0.0.1", `${baseUrl}/never-answered`, {});
    const failed = stuck.then(
      () => "answered",
      () => "cut",
    );
    await until("the request in hand", () => reached.length === 1);
    expect(await server.drain(200)).toEqual({ cut: 1, streamsEnded: 0 });
    expect(await failed).toBe("cut");
  });
});

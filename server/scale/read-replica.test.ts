import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deals } from "@/db/schema";
import { newId } from "@/lib/ids";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { type StreamingReplica, startStreamingReplica } from "@/testing/streaming-replica";
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";

let database: TestDatabase;
let replica: StreamingReplica;
/** Reads the replica while it is less than an hour behind: it serves a paused replay's view. */
let lenient: Services;
/** Falls back once the replica is a second behind the primary. */
let strict: Services;

const databaseName = () => new URL(database.url).pathname.slice(1);

async function servicesReadingFromReplica(maxLagMs: number) {
  return createServices(
    parseEnv({
      DATABASE_URL: database.url,
      DATABASE_READ_URL: replica.url(databaseName()),
      DATABASE_READ_MAX_LAG_MS: String(maxLagMs),
      DEMO_SEED: "off",
    }),
  );
}

/** Checks until `services` reads from `where`: bounded, and judged by the databases' clocks. */
async function untilServing(services: Services, where: "replica" | "primary") {
  for (let attempt = 0; attempt < 300; attempt++) {
    if ((await services.reads.check()).serving === where) return services.reads.current;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`reads never went to the ${where}: ${JSON.stringify(services.reads.current)}`);
}

/** Connections open on the replica for this test's database, by application_name. */
async function replicaConnections(): Promise<string[]> {
  const rows = await replica.sql<{ name: string }[]>`
    SELECT application_name AS name FROM pg_stat_activity WHERE datname = ${databaseName()}`;
  return rows.map((row) => row.name);
}

beforeAll(async () => {
  database = await createTestDatabase();
  const admin = new URL(ADMIN_DATABASE_URL);
  replica = await startStreamingReplica({ host: admin.hostname, port: Number(admin.port || 5432) });
  lenient = await servicesReadingFromReplica(3_600_000);
  strict = await servicesReadingFromReplica(1_000);
}, 180_000);
afterAll(async () => {
  await lenient?.stop();
  await strict?.stop();
  await replica?.stop();
  await database?.drop();
}, 60_000);

describe("issue 21 item 3: discovery reads from a streaming replica", () => {
  let dealId = "";

  it("serves deal reads from the replica, and from the primary once a paused replay lags past the bound", async () => {
    // Other tests write to the same primary: caught up, or a few milliseconds behind.
    expect((await untilServing(lenient, "replica")).lagMs).toBeLessThanOrEqual(1_000);
    await untilServing(strict, "replica");

    await replica.pauseReplay();
    const merchant = await createMerchant(database.db);
    dealId = (await createDeal(database.db, merchant.id, { quantity: 3, now: new Date() })).id;
    const onPrimary = await database.db.select().from(deals).where(eq(deals.id, dealId));
    expect(onPrimary).toHaveLength(1);

    // Within an hour of the primary: the replica's view, which has not seen the deal yet.
    expect((await lenient.reads.check()).serving).toBe("replica");
    expect((await lenient.deals.listOpen()).map((deal) => deal.id)).not.toContain(dealId);
    const near = await lenient.discovery.near({ lat: 52.37, lng: 4.89, radiusKm: 1 });
    expect(near.map((deal) => deal.id)).not.toContain(dealId);
    expect(await replicaConnections()).toContain("dealdrop-read");

    // A second behind by the replica's clock: the primary answers, and has the deal.
    const fallenBack = await untilServing(strict, "primary");
    expect(fallenBack.lagMs).toBeGreaterThan(1_000);
    expect((await strict.deals.listOpen()).map((deal) => deal.id)).toContain(dealId);

    await replica.resumeReplay();
    await untilServing(strict, "replica");
    expect((await strict.deals.listOpen()).map((deal) => deal.id)).toContain(dealId);
  });

  it("never sends a write to the replica: a claim is written on the primary and reaches the replica by replication", async () => {
    const [shopper = ""] = await createShoppers(database.db, 1);
    const result = await strict.claims.claim(shopper, { dealId, idempotencyKey: newId() });
    expect(result.outcome).toBe("WON");
    // Only the read pool ever connected to the replica; a standby refuses writes besides.
    expect(new Set(await replicaConnections())).toEqual(new Set(["dealdrop-read"]));
    // The replica learns of the claim by replication alone.
    for (let attempt = 0; attempt < 100; attempt++) {
      await untilServing(strict, "replica");
      const seen = (await strict.deals.listOpen()).find((deal) => deal.id === dealId);
      if (seen?.remaining === 2) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("the claim never reached the replica");
  });

  it("falls back to the primary when the replica is down, and returns to it when it is back", async () => {
    await untilServing(strict, "replica");
    await replica.halt();
    // The first read after it went away is answered by the primary, before any check.
    expect((await strict.deals.listOpen()).map((deal) => deal.id)).toContain(dealId);
    expect(strict.reads.current).toEqual({ serving: "primary", lagMs: null });
    expect(await strict.reads.check()).toEqual({ serving: "primary", lagMs: null });
    const scraped = (await strict.metrics.render()).body;
    expect(scraped).toMatch(/^dealdrop_read_replica_serving 0$/m);
    expect(scraped).toMatch(/^dealdrop_read_replica_lag_seconds nan$/im);
    expect((await strict.discovery.byId(dealId)).id).toBe(dealId);

    await replica.start();
    expect((await untilServing(strict, "replica")).lagMs).toBeLessThanOrEqual(1_000);
    expect((await strict.deals.listOpen()).map((deal) => deal.id)).toContain(dealId);
  });
});

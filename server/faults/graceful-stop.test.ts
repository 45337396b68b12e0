import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVE_CLAIM_STATUSES, claims } from "@/db/schema";
import { postClaim } from "@/lib/claims/claim-client";
import { newId } from "@/lib/ids";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { type ClaimServerProcess, startClaimServer } from "@/testing/claim-server-process";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis } from "@/testing/test-redis";
import { SessionCodec } from "../auth/session";
import { gateKeys } from "../claims/gate-keys";

/**
 * Issue 21, item 2: a claim server (two workers) stopped with SIGTERM in the middle of a sale.
 * It stops accepting, finishes the claims in hand, settles every winner, then exits 0: every
 * shopper told "won" has a committed claim, and the gate holds no winner still pending (no
 * grant left for the reconciler to guess about), so gate and Postgres agree at once.
 */
const SECRET = "graceful-stop session secret, long enough to be accepted";
const QUANTITY = 300;
const SHOPPERS = 600;
const SENDERS = 48;
/** The signal goes once this many answers are in: mid-sale, with claims in hand. */
const SIGNAL_AFTER = 120;

const testRedis = createTestRedis();
let database: TestDatabase;
let server: ClaimServerProcess;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startClaimServer({
    database,
    redisPrefix: testRedis.prefix,
    sessionSecret: SECRET,
    env: { CLAIM_WORKERS: "2", DRAIN_TIMEOUT_MS: "10000" },
  });
}, 120_000);

afterAll(async () => {
  await server?.running.stop();
  await testRedis.cleanUp();
  await database?.drop();
});

describe("SIGTERM to a claim server mid-sale", () => {
  it("loses no answered win and leaves no winner unsettled", async () => {
    const deal = await createDeal(database.db, (await createMerchant(database.db)).id, {
      quantity: QUANTITY,
      now: new Date(),
    });
    const codec = new SessionCodec(SECRET);
    const cookies = await Promise.all(
      (await createShoppers(database.db, SHOPPERS)).map(
        async (userId) =>
          `dd_session=${await codec.issue({ userId, role: "shopper", displayName: "Crowd" })}`,
      ),
    );
    const exited = new Promise<number | null>((resolve) =>
      server.running.child.once("exit", (code) => resolve(code)),
    );

    const won: string[] = [];
    let answers = 0;
    let answersAfterSignal = 0;
    let signalled = false;
    let serverGone = false;
    let next = 0;
    const sender = async () => {
      while (next < SHOPPERS && !serverGone) {
        const shopper = next++;
        try {
          const result = await postClaim(
            { dealId: deal.id, idempotencyKey: newId() },
            {
              baseUrl: server.baseUrl,
              headers: {
                cookie: cookies[shopper] as string,
                "x-forwarded-for": `198.51.100.${shopper % 250}`,
              },
            },
          );
          answers++;
          if (signalled) answersAfterSignal++;
          if (result.outcome === "WON") won.push(result.claimId);
        } catch (error) {
          // Refused or cut: the server has stopped taking claims. A shed claim (503) is retried
          // by the shopper's app; here the next shopper goes instead.
          if (!(error instanceof ApiRequestError)) throw error;
          if (error.status === 0) serverGone = true;
        }
        if (!signalled && answers >= SIGNAL_AFTER) {
          signalled = true;
          server.running.child.kill("SIGTERM");
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    expect(signalled).toBe(true);
    expect(await exited).toBe(0);

    // Mid-sale: some claims were answered after the signal (the ones in hand), and the sale
    // was not over when the server stopped.
    expect(answersAfterSignal).toBeGreaterThan(0);
    expect(won.length).toBeGreaterThan(0);
    expect(won.length).toBeLessThan(QUANTITY);

    // Every answered win has its committed, active claim.
    const rows = await database.db
      .select({ id: claims.id, status: claims.status })
      .from(claims)
      .where(inArray(claims.id, won));
    expect(rows).toHaveLength(won.length);
    for (const row of rows) expect(ACTIVE_CLAIM_STATUSES).toContain(row.status);

    // No winner unsettled: nothing pending at the gate, and the gate's count is Postgres's.
    const gate = gateKeys(testRedis.prefix, deal.id);
    expect(await testRedis.redis.zcard(gate.pending)).toBe(0);
    const truth = await claimTruth(database.db, deal.id);
    expect(truth).toMatchObject({ usersWithTwoClaims: 0, soldCounter: truth.activeClaims });
    const remaining = Number(await testRedis.redis.hget(gate.meta, "remaining"));
    expect(remaining + truth.activeClaims).toBe(QUANTITY);
    expect(truth.activeClaims).toBeGreaterThanOrEqual(won.length);
  }, 120_000);
});

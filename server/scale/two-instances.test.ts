import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postClaim } from "@/lib/claims/claim-client";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { startClaimServer } from "@/testing/claim-server-process";
import type { Running } from "@/testing/processes";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createTestRedis } from "@/testing/test-redis";
import { SessionCodec } from "../auth/session";
import { gateKeys } from "../claims/gate-keys";

/**
 * Two app instances, each a process of its own on its own port (the claim server, as
 * deployed), against one Redis and one Postgres. The crowd's attempts are split between them,
 * a shopper's two attempts going to different instances, and every invariant must hold.
 */
const SECRET = "two-instances-session-secret-long-enough-0123456789";
const testRedis = createTestRedis();
const PREFIX = testRedis.prefix;
const QUANTITY = 150;
const SHOPPERS = 400;

let database: TestDatabase;
const instances: { url: string; running: Running }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const started = await Promise.all(
    [0, 1].map(() => startClaimServer({ database, redisPrefix: PREFIX, sessionSecret: SECRET })),
  );
  for (const { baseUrl, running } of started) instances.push({ url: baseUrl, running });
}, 90_000);

afterAll(async () => {
  await Promise.all(instances.map(({ running }) => running.stop()));
  await testRedis.cleanUp();
  await database?.drop();
});

describe("two app instances on one Redis and one Postgres", () => {
  it("sell exactly the quantity, one claim per shopper, with the load split between them", async () => {
    const merchant = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchant.id, {
      quantity: QUANTITY,
      now: new Date(),
    });
    const codec = new SessionCodec(SECRET);
    const shoppers = await createShoppers(database.db, SHOPPERS);
    const cookies = await Promise.all(
      shoppers.map(async (userId) => {
        const token = await codec.issue({ userId, role: "shopper", displayName: "Crowd" });
        return `dd_session=${token}`;
      }),
    );

    // Every shopper tries once on each instance, with a key per attempt; a quarter also
    // sends one key to both at once (a retry that went to the other instance).
    type Sent = { shopper: number; instance: number; result?: ClaimResult; status?: number };
    const attempts: { shopper: number; instance: number; key: string }[] = [];
    shoppers.forEach((_, shopper) => {
      attempts.push({ shopper, instance: shopper % 2, key: `a-${newId()}` });
      attempts.push({ shopper, instance: (shopper + 1) % 2, key: `b-${newId()}` });
      if (shopper % 4 === 0) {
        const key = `r-${newId()}`;
        attempts.push({ shopper, instance: 0, key }, { shopper, instance: 1, key });
      }
    });
    const sent: Sent[] = [];
    let next = 0;
    const worker = async () => {
      while (next < attempts.length) {
        const attempt = attempts[next++] as (typeof attempts)[number];
        const answer: Sent = { shopper: attempt.shopper, instance: attempt.instance };
        const send = () =>
          postClaim(
            { dealId: deal.id, idempotencyKey: attempt.key },
            {
              baseUrl: instances[attempt.instance]?.url,
              headers: {
                cookie: cookies[attempt.shopper] ?? "",
                "x-forwarded-for": `198.51.100.${attempt.shopper % 200}`,
              },
            },
          );
        // A 503 says "try again shortly" (a cold instance on a busy machine may shed its first
        // attempts); the shopper's app does, with the same key, for up to 10 s.
        const giveUpAt = Date.now() + 10_000;
        for (;;) {
          try {
            answer.result = await send();
          } catch (error) {
            const status = error instanceof ApiRequestError ? error.status : -1;
            if (status === 503 && Date.now() < giveUpAt) {
              const hint = (error as ApiRequestError).error.retryAfterMs ?? 50;
              await new Promise((resolve) => setTimeout(resolve, Math.min(hint, 200)));
              continue;
            }
            answer.status = status;
          }
          break;
        }
        sent.push(answer);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));

    // Every attempt got an answer: no errors, no refusals.
    expect(sent.filter((answer) => !answer.result)).toEqual([]);
    const won = sent.filter((answer) => answer.result?.outcome === "WON");
    const claimOf = new Map<number, string>();
    for (const answer of won) {
      const claimId = answer.result?.outcome === "WON" ? answer.result.claimId : "";
      // A shopper told "won" twice was told about the same claim both times.
      expect(claimOf.get(answer.shopper) ?? claimId).toBe(claimId);
      claimOf.set(answer.shopper, claimId);
    }
    expect(claimOf.size).toBe(QUANTITY);
    // Both instances decided attempts and both sold units.
    for (const instance of [0, 1]) {
      expect(sent.filter((answer) => answer.instance === instance).length).toBeGreaterThan(400);
      expect(won.filter((answer) => answer.instance === instance).length).toBeGreaterThan(0);
    }

    const truth = await claimTruth(database.db, deal.id);
    expect(truth).toMatchObject({
      activeClaims: QUANTITY,
      soldCounter: QUANTITY,
      usersWithTwoClaims: 0,
    });
    const remaining = await testRedis.redis.hget(gateKeys(PREFIX, deal.id).meta, "remaining");
    expect(Number(remaining)).toBe(0);
  });
});

import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { claims, deals, vouchers } from "@/db/schema";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import { countQueries } from "@/testing/query-count";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import type { ClaimEngine } from "./claim-engine";
import { CLAIM_LIMITS } from "./claim-limits";

export interface EngineHarness {
  db: Db;
  engine: ClaimEngine;
  /** Units the gate would still grant for this deal. */
  remainingAtGate(dealId: string): Promise<number>;
  /** Whether a rejected attempt is expected to reach Postgres (the embedded gate is Postgres). */
  rejectionsTouchPostgres: boolean;
  /** Loads a deal's gate ahead of its sale, as the first attempt would. */
  openGate(dealId: string): Promise<void>;
  /** Drops the deal's gate and loads it again from Postgres, as after a Redis restart. */
  reloadGate(dealId: string): Promise<void>;
  close(): Promise<void>;
}

type Outcome = {
  user: string;
  key: string;
  result?: ClaimResult;
  error?: unknown;
  queries: number;
};

/** Runs attempts with at most `concurrency` in flight, counting each one's SQL statements. */
export async function runAttempts(
  engine: ClaimEngine,
  dealId: string,
  attempts: { user: string; key: string }[],
  concurrency: number,
  now = new Date(),
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(attempts.length);
  let next = 0;
  const worker = async () => {
    while (next < attempts.length) {
      const index = next++;
      const attempt = attempts[index] as { user: string; key: string };
      try {
        const { result, queries } = await countQueries(() =>
          engine.claim({ dealId, userId: attempt.user, idempotencyKey: attempt.key, now }),
        );
        outcomes[index] = { ...attempt, result, queries };
      } catch (error) {
        outcomes[index] = { ...attempt, error, queries: -1 };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, attempts.length) }, worker));
  return outcomes;
}

/** A voucher row for a claim, as the issuer writes it (the token is not read here). */
async function issueVoucherRow(db: Db, claimId: string) {
  const [claim] = await db
    .select({ dealId: claims.dealId, merchantId: deals.merchantId })
    .from(claims)
    .innerJoin(deals, eq(deals.id, claims.dealId))
    .where(eq(claims.id, claimId));
  if (!claim) throw new Error(`no claim ${claimId}`);
  const at = new Date();
  await db.insert(vouchers).values({
    id: newId(),
    claimId,
    dealId: claim.dealId,
    merchantId: claim.merchantId,
    subject: "test-subject",
    kid: "test-kid",
    token: "not-a-token",
    issuedAt: at,
    notBefore: at,
    expiresAt: new Date(at.getTime() + 86_400_000),
  });
}

const summary = (result: ClaimResult | undefined) =>
  result && "claimId" in result ? `${result.outcome}:${result.claimId}` : result?.outcome;

/**
 * The contract every claim engine keeps (DESIGN.md, invariants 1 to 4), run against each.
 */
export function describeClaimEngineContract(
  name: string,
  makeHarness: () => Promise<EngineHarness>,
) {
  describe(`${name}: claim engine contract`, () => {
    let h: EngineHarness;
    let merchantId: string;
    let shoppers: string[];
    const now = new Date();

    beforeAll(async () => {
      h = await makeHarness();
      merchantId = (await createMerchant(h.db)).id;
      shoppers = await createShoppers(h.db, 300);
    });
    afterAll(async () => h?.close());

    const shopper = (i: number) => shoppers[i] as string;

    it("wins a unit, replays the same key, and names the held claim for another key", async () => {
      const deal = await createDeal(h.db, merchantId, { quantity: 5, now });
      const request = { dealId: deal.id, userId: shopper(0), idempotencyKey: "intent-one", now };
      const won = await h.engine.claim(request);
      expect(won).toMatchObject({ outcome: "WON", status: "confirmed", replayed: false });
      const claimId = won.outcome === "WON" ? won.claimId : "";

      expect(await h.engine.claim(request)).toMatchObject({
        outcome: "WON",
        claimId,
        replayed: true,
      });
      expect(await h.engine.claim({ ...request, idempotencyKey: "intent-two" })).toEqual({
        outcome: "ALREADY_CLAIMED",
        claimId,
      });
      const [row] = await h.db.select().from(claims).where(eq(claims.id, claimId));
      expect(row).toMatchObject({
        userId: shopper(0),
        status: "confirmed",
        idempotencyKey: "intent-one",
      });
      expect(await h.remainingAtGate(deal.id)).toBe(4);
    });

    it("takes a cancelled claim's unit back: another shopper can win it, the old key replays the cancelled claim", async () => {
      const deal = await createDeal(h.db, merchantId, { quantity: 1, now });
      const request = { dealId: deal.id, userId: shopper(10), idempotencyKey: "cancel-me-1", now };
      const won = await h.engine.claim(request);
      const claimId = won.outcome === "WON" ? won.claimId : "";
      // What ClaimService.cancel does in Postgres, then tells the engine.
      await h.db.update(claims).set({ status: "cancelled" }).where(eq(claims.id, claimId));
      await h.db.update(deals).set({ sold: 0 }).where(eq(deals.id, deal.id));
      await h.engine.returnCancelledUnit({ ...request, claimId, hadVoucher: false });
      expect(await h.remainingAtGate(deal.id)).toBe(1);

      expect(await h.engine.claim(request)).toMatchObject({
        outcome: "WON",
        claimId,
        status: "cancelled",
      });
      const other = { ...request, userId: shopper(11), idempotencyKey: "after-cancel" };
      expect(await h.engine.claim(other)).toMatchObject({ outcome: "WON", replayed: false });
      expect(await claimTruth(h.db, deal.id)).toMatchObject({ activeClaims: 1, soldCounter: 1 });
    });

    it("one voucher per shopper per deal, ever: who cancelled a claim with a voucher cannot claim again, the unit goes to someone else", async () => {
      const deal = await createDeal(h.db, merchantId, { quantity: 1, now });
      const request = { dealId: deal.id, userId: shopper(12), idempotencyKey: "once-only-1", now };
      const won = await h.engine.claim(request);
      const claimId = won.outcome === "WON" ? won.claimId : "";
      await issueVoucherRow(h.db, claimId);
      // What ClaimService.cancel does in Postgres (the voucher revoked), then tells the engine.
      await h.db.update(claims).set({ status: "cancelled" }).where(eq(claims.id, claimId));
      await h.db.update(deals).set({ sold: 0 }).where(eq(deals.id, deal.id));
      await h.db.update(vouchers).set({ revokedAt: now }).where(eq(vouchers.claimId, claimId));
      await h.engine.returnCancelledUnit({ ...request, claimId, hadVoucher: true });

      const again = { ...request, idempotencyKey: "once-only-2" };
      const refused = await countQueries(() => h.engine.claim(again));
      expect(refused.result).toEqual({ outcome: "ALREADY_CANCELLED", claimId });
      // A refusal like any other: the Redis gate answers it without Postgres (invariant 3).
      if (!h.rejectionsTouchPostgres) expect(refused.queries).toBe(0);
      // A retry of the old attempt still replays the cancelled claim.
      expect(await h.engine.claim(request)).toMatchObject({
        outcome: "WON",
        claimId,
        replayed: true,
      });
      // Also once the gate is rebuilt from Postgres.
      await h.reloadGate(deal.id);
      const third = { ...request, idempotencyKey: "once-only-3" };
      expect(await h.engine.claim(third)).toEqual({ outcome: "ALREADY_CANCELLED", claimId });
      const other = { ...request, userId: shopper(13), idempotencyKey: "once-only-other" };
      expect(await h.engine.claim(other)).toMatchObject({ outcome: "WON", replayed: false });
      expect(await claimTruth(h.db, deal.id)).toMatchObject({ activeClaims: 1, soldCounter: 1 });
    });

    it("reserves a priced deal's unit for the reservation period", async () => {
      const deal = await createDeal(h.db, merchantId, { quantity: 2, now, priceCents: 450 });
      const won = await h.engine.claim({
        dealId: deal.id,
        userId: shopper(1),
        idempotencyKey: "priced-1",
        now,
      });
      expect(won).toMatchObject({ outcome: "WON", status: "reserved" });
      if (won.outcome !== "WON") return;
      expect(won.reservedUntil?.getTime()).toBe(now.getTime() + 10 * 60_000);
    });

    it("refuses before the start, after the end, when sold out, and when cancelled, changing nothing", async () => {
      const upcoming = await createDeal(h.db, merchantId, {
        quantity: 3,
        now,
        startsInMinutes: 10,
      });
      const attempt = (dealId: string, at: Date, user = shopper(2)) =>
        h.engine.claim({ dealId, userId: user, idempotencyKey: `k-${newId()}`, now: at });
      expect(await attempt(upcoming.id, now)).toEqual({ outcome: "NOT_STARTED" });
      expect(await attempt(upcoming.id, new Date(upcoming.endsAt.getTime() + 1))).toEqual({
        outcome: "ENDED",
      });

      const single = await createDeal(h.db, merchantId, { quantity: 1, now });
      expect((await attempt(single.id, now, shopper(3))).outcome).toBe("WON");
      expect(await attempt(single.id, now, shopper(4))).toEqual({ outcome: "SOLD_OUT" });

      const cancelled = await createDeal(h.db, merchantId, { quantity: 3, now });
      await h.db.update(deals).set({ status: "cancelled" }).where(eq(deals.id, cancelled.id));
      expect(await attempt(cancelled.id, now)).toEqual({ outcome: "CANCELLED" });

      for (const deal of [upcoming, single, cancelled]) {
        const truth = await claimTruth(h.db, deal.id);
        expect(truth.activeClaims).toBe(deal.id === single.id ? 1 : 0);
        expect(truth.soldCounter).toBe(truth.activeClaims);
      }
    });

    it("answers the same key sent twice at once for the last unit with one claim", async () => {
      for (let round = 0; round < 25; round++) {
        const deal = await createDeal(h.db, merchantId, { quantity: 1, now });
        const request = {
          dealId: deal.id,
          userId: shopper(6),
          idempotencyKey: `twice-${round}`,
          now,
        };
        const [first, second] = await Promise.all([
          h.engine.claim(request),
          h.engine.claim(request),
        ]);
        expect(summary(second)).toBe(summary(first));
        expect(first?.outcome).toBe("WON");
      }
    });

    it("scopes idempotency keys to their user: the same key from two shoppers is two claims", async () => {
      const deal = await createDeal(h.db, merchantId, { quantity: 5, now });
      const shared = { dealId: deal.id, idempotencyKey: "same-key-everywhere", now };
      const first = await h.engine.claim({ ...shared, userId: shopper(7) });
      const second = await h.engine.claim({ ...shared, userId: shopper(8) });
      expect(first).toMatchObject({ outcome: "WON", replayed: false });
      expect(second).toMatchObject({ outcome: "WON", replayed: false });
      expect(summary(second)).not.toBe(summary(first));
      expect((await claimTruth(h.db, deal.id)).activeClaims).toBe(2);
    });

    it("claims a geo-fenced deal only from within its radius; refusals are typed and change nothing", async () => {
      // 300 m around 52.37, 4.89.
      const deal = await createDeal(h.db, merchantId, { quantity: 5, now, geofenceRadiusM: 300 });
      await h.openGate(deal.id);
      const attempt = (user: number, position?: { lat: number; lng: number }) =>
        h.engine.claim({
          dealId: deal.id,
          userId: shopper(user),
          idempotencyKey: `fence-${user}`,
          now,
          position,
        });
      const far = await countQueries(() => attempt(20, { lat: 52.38, lng: 4.89 }).catch((e) => e));
      expect(far.result).toMatchObject({
        code: "OUT_OF_AREA",
        message: "This deal can only be claimed within 300 m of the shop; you are 1.1 km away.",
      });
      await expect(attempt(21)).rejects.toMatchObject({
        code: "OUT_OF_AREA",
        message: "This deal can only be claimed nearby: share your location first.",
      });
      expect(await claimTruth(h.db, deal.id)).toMatchObject({ activeClaims: 0, soldCounter: 0 });
      expect(await h.remainingAtGate(deal.id)).toBe(5);
      if (!h.rejectionsTouchPostgres) expect(far.queries).toBe(0);

      expect(await attempt(22, { lat: 52.3712, lng: 4.8905 })).toMatchObject({ outcome: "WON" });
      // Deals without a fence need no position.
      const open = await createDeal(h.db, merchantId, { quantity: 1, now });
      expect(
        await h.engine.claim({
          dealId: open.id,
          userId: shopper(23),
          idempotencyKey: "no-fence",
          now,
        }),
      ).toMatchObject({ outcome: "WON" });
    });

    it("answers an unknown deal with a typed NOT_FOUND error", async () => {
      const attempt = h.engine.claim({
        dealId: newId(),
        userId: shopper(5),
        idempotencyKey: "unknown-1",
        now,
      });
      await expect(attempt).rejects.toMatchObject({ name: "DomainError", code: "NOT_FOUND" });
    });

    it("limits attempts per shopper and per address on a deal; a limited attempt is typed and changes nothing", async () => {
      const deal = await createDeal(h.db, merchantId, { quantity: 50, now });
      const other = await createDeal(h.db, merchantId, { quantity: 50, now });
      const attempt = (dealId: string, user: string, ip: string) =>
        h.engine
          .claim({ dealId, userId: user, idempotencyKey: `rl-${newId()}`, now, ip })
          .then((result) => result.outcome)
          .catch((error: { code?: string; details?: { retryAfterMs?: number } }) => {
            expect(error.details?.retryAfterMs).toBeGreaterThan(0);
            return error.code;
          });

      // One shopper clicking: the first win, then ALREADY_CLAIMED up to the limit.
      const clicks = [];
      for (let n = 0; n < CLAIM_LIMITS.perShopper + 2; n++) {
        clicks.push(await attempt(deal.id, shopper(6), "198.51.100.1"));
      }
      expect(clicks.slice(0, CLAIM_LIMITS.perShopper)).toEqual([
        "WON",
        ...Array(CLAIM_LIMITS.perShopper - 1).fill("ALREADY_CLAIMED"),
      ]);
      expect(clicks.slice(CLAIM_LIMITS.perShopper)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
      // The limit is per deal: the same shopper may still try another sale.
      expect(await attempt(other.id, shopper(6), "198.51.100.1")).toBe("WON");

      // One address: a venue's crowd shares it, up to the address limit.
      const crowd = Array.from({ length: CLAIM_LIMITS.perAddress }, (_, n) =>
        attempt(deal.id, shopper(7 + (n % 40)), "198.51.100.2"),
      );
      const crowdOutcomes = await Promise.all(crowd);
      expect(crowdOutcomes).not.toContain("RATE_LIMITED");
      expect(await attempt(deal.id, shopper(60), "198.51.100.2")).toBe("RATE_LIMITED");
      expect(await attempt(deal.id, shopper(60), "198.51.100.3")).toBe("WON");

      const truth = await claimTruth(h.db, deal.id);
      expect(truth.activeClaims).toBe(1 + 40 + 1);
      expect(truth.soldCounter).toBe(truth.activeClaims);
      expect(await h.remainingAtGate(deal.id)).toBe(50 - truth.activeClaims);
    });

    it("keeps every invariant under random concurrent sales (property)", async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 50 }),
          fc.integer({ min: 1, max: 300 }),
          fc.array(fc.record({ user: fc.nat(), retry: fc.boolean() }), {
            minLength: 1,
            maxLength: 400,
          }),
          fc.integer({ min: 1, max: 256 }),
          async (stock, userCount, plan, concurrency) => {
            run++;
            // Quantity must be positive; a stock of 0 is a deal whose units are already held.
            const priorHolders = stock === 0 ? 1 : 0;
            const deal = await createDeal(h.db, merchantId, {
              quantity: stock + priorHolders,
              now,
            });
            for (let i = 0; i < priorHolders; i++) {
              await h.engine.claim({
                dealId: deal.id,
                userId: shopper(299 - i),
                idempotencyKey: "prior-holder",
                now,
              });
            }
            const lastKey = new Map<string, string>();
            const attempts = plan.map(({ user, retry }, index) => {
              const id = shopper(user % Math.min(userCount, 299 - priorHolders));
              const key = (retry && lastKey.get(id)) || `r${run}-a${index}`;
              lastKey.set(id, key);
              return { user: id, key };
            });

            // The one-time load of a cold gate reads Postgres; whichever attempt triggers it
            // pays for it, and that cost is not the rejection path's.
            await h.openGate(deal.id);
            const outcomes = await runAttempts(h.engine, deal.id, attempts, concurrency, now);

            expect(outcomes.filter((o) => o.error)).toEqual([]);
            const truth = await claimTruth(h.db, deal.id);
            const distinctUsers = new Set(attempts.map((a) => a.user)).size;
            expect(truth.activeClaims - priorHolders).toBe(Math.min(stock, distinctUsers));
            expect(truth.usersWithTwoClaims).toBe(0);
            expect(truth.soldCounter).toBe(truth.activeClaims);
            expect((await h.remainingAtGate(deal.id)) + truth.activeClaims).toBe(truth.quantity);

            const byKey = new Map<string, string | undefined>();
            for (const o of outcomes) {
              const slot = `${o.user}/${o.key}`;
              if (!byKey.has(slot)) byKey.set(slot, summary(o.result));
              expect(summary(o.result), `retry of ${slot}`).toBe(byKey.get(slot));
            }
            if (!h.rejectionsTouchPostgres) {
              const rejected = outcomes.filter((o) => o.result?.outcome !== "WON");
              expect(rejected.reduce((sum, o) => sum + o.queries, 0)).toBe(0);
            }
          },
        ),
        { numRuns: 20 },
      );
    });
  });
}

import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rowsOf } from "@/db/client";
import { claims, deals, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { verifyVoucher } from "@/lib/vouchers/verify-voucher";
import { countQueries } from "@/testing/query-count";
import { claimTruth, createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { withTestServices } from "@/testing/test-services";
import { type VoucherDraft, VoucherIssuer } from "../vouchers/voucher-issuer";
import type { NewClaim } from "./claim-records";
import { recordWinners, type VoucherDrafts, WinnerWrites, WRITE_ALONE } from "./winner-writes";

const now = new Date();
const world = withTestServices({ redis: true, clock: () => now });

async function freeSale(quantity: number, shoppers: number) {
  const { db } = world.database;
  const merchant = await createMerchant(db);
  const deal = await createDeal(db, merchant.id, { quantity, now });
  return { merchant, deal, users: await createShoppers(db, shoppers) };
}

const winnerOf = (dealId: string, userId: string): NewClaim => ({
  claimId: newId(),
  dealId,
  userId,
  idempotencyKey: newId(),
  now,
  reservationMs: 600_000,
});

const issuer = () =>
  new VoucherIssuer(world.database.db, world.services.signingKeys, "subject-secret", () => now);

/** Calls record_winners itself, as WinnerWrites does, with the drafts the issuer signs. */
async function recordWinnersNow(winners: NewClaim[]) {
  const drafts = await issuer().draftsFor(winners);
  return rowsOf<{ claim_id: string; voucher_id: string | null }>(
    await world.database.db.execute(recordWinners(winners, drafts)),
  );
}

const vouchersOf = (dealId: string) =>
  world.database.db.select().from(vouchers).where(eq(vouchers.dealId, dealId));

describe("record_winners (one statement per batch of winners)", () => {
  it("records claims, counts `sold` and commits each free claim's voucher in the same statement", async () => {
    const { merchant, deal, users } = await freeSale(10, 6);
    const rows = await recordWinnersNow(users.map((user) => winnerOf(deal.id, user)));
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.voucher_id)).toBe(true);
    expect(await claimTruth(world.database.db, deal.id)).toMatchObject({
      activeClaims: 6,
      soldCounter: 6,
    });
    const issued = await vouchersOf(deal.id);
    expect(issued.map((v) => v.claimId).sort()).toEqual(rows.map((r) => r.claim_id).sort());
    const keys = await world.services.signingKeys.publishedKeys();
    for (const voucher of issued) {
      const verdict = await verifyVoucher(voucher.token, {
        keys,
        now,
        clockSkewSeconds: 120,
        merchantId: merchant.id,
      });
      expect(verdict).toMatchObject({ ok: true });
    }
  });

  it("refuses a whole batch that would pass the deal's quantity: no claim, no voucher, `sold` unchanged", async () => {
    const { deal, users } = await freeSale(5, 8);
    await expect(recordWinnersNow(users.map((user) => winnerOf(deal.id, user)))).rejects.toThrow();
    expect(await claimTruth(world.database.db, deal.id)).toMatchObject({
      activeClaims: 0,
      soldCounter: 0,
    });
    expect(await vouchersOf(deal.id)).toHaveLength(0);
  });

  it("records one claim per shopper: a second winner for the same shopper is left out, uncounted", async () => {
    const { deal, users } = await freeSale(10, 2);
    const [first = "", second = ""] = users;
    const twice = [winnerOf(deal.id, first), winnerOf(deal.id, first), winnerOf(deal.id, second)];
    const rows = await recordWinnersNow(twice);
    expect(rows).toHaveLength(2);
    expect(await claimTruth(world.database.db, deal.id)).toMatchObject({
      activeClaims: 2,
      soldCounter: 2,
      usersWithTwoClaims: 0,
    });
    expect(await vouchersOf(deal.id)).toHaveLength(2);
  });

  it("inserts no voucher signed with a deal's old terms: the claim is recorded and its voucher left to the issuer", async () => {
    const { deal, users } = await freeSale(10, 2);
    const signer = issuer();
    const writes = new WinnerWrites(world.database.db, signer);
    await writes.write(winnerOf(deal.id, users[0] ?? ""));
    // The issuer has the deal's terms now; the deal's vouchers are then made to last longer.
    await world.database.db
      .update(deals)
      .set({ voucherValidUntil: new Date(deal.voucherValidUntil.getTime() + 86_400_000) })
      .where(eq(deals.id, deal.id));
    const stale = await writes.write(winnerOf(deal.id, users[1] ?? ""));
    expect(stale).toMatchObject({ status: "confirmed" });
    expect(stale !== WRITE_ALONE && stale.voucherId).toBeFalsy();
    expect(await vouchersOf(deal.id)).toHaveLength(1);
  });

  it("answers nobody of a failed batch as written: each goes back to be written alone, and none of its claims or vouchers is committed", async () => {
    const { deal, users } = await freeSale(100, 12);
    let calls = 0;
    // Every winner of one batch gets the same voucher id: a batch of two or more fails on it.
    const sameIdPerBatch: VoucherDrafts = {
      async draftsFor(winners) {
        const drafts = await issuer().draftsFor(winners);
        const id = `dup-${++calls}`;
        return drafts.map((draft): VoucherDraft | undefined =>
          draft ? { ...draft, voucher_id: id } : undefined,
        );
      },
      forgetDeal: () => undefined,
    };
    const writes = new WinnerWrites(world.database.db, sameIdPerBatch);
    const winners = users.map((user) => winnerOf(deal.id, user));
    const results = await Promise.all(winners.map((winner) => writes.write(winner)));
    const recorded = new Set(
      (await world.database.db.select().from(claims).where(eq(claims.dealId, deal.id))).map(
        (c) => c.id,
      ),
    );
    const sentBack = winners.filter((_, i) => results[i] === WRITE_ALONE);
    expect(sentBack.length).toBeGreaterThan(1);
    for (const [i, winner] of winners.entries()) {
      expect(recorded.has(winner.claimId)).toBe(results[i] !== WRITE_ALONE);
    }
    expect(await vouchersOf(deal.id)).toHaveLength(recorded.size);
  });

  it("answers a free deal's winner with a voucher from one Postgres statement", async () => {
    const { deal, users } = await freeSale(10, 3);
    const claim = (userId: string) =>
      world.services.claims.claim(userId, { dealId: deal.id, idempotencyKey: newId() });
    await claim(users[0] ?? ""); // loads the gate and the deal's terms
    const { result, queries } = await countQueries(() => claim(users[1] ?? ""));
    expect(result).toMatchObject({ outcome: "WON", status: "confirmed" });
    expect(result.outcome === "WON" && result.voucherId).toBeTruthy();
    expect(queries).toBe(1);
    expect(await vouchersOf(deal.id)).toHaveLength(2);
  });
});

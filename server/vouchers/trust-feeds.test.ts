import { eq, sql } from "drizzle-orm";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { oneAtATime } from "@/lib/one-at-a-time";
import { judgeAtCounter } from "@/lib/vouchers/counter-judgement";
import type { FeedRequest } from "@/lib/vouchers/trust-feed";
import {
  type FeedPositions,
  refreshTrustInFull,
  type TrustPage,
} from "@/lib/vouchers/trust-refresh";
import { bulkClaimsWithVouchers } from "@/testing/bulk-vouchers";
import { createDeal, createShoppers, createShopWithStaff } from "@/testing/sale-fixtures";
import { testCaller } from "@/testing/test-caller";
import { clockStart } from "@/testing/test-clock";
import { withTestServices } from "@/testing/test-services";
import { handleTrpcRequest } from "../api/http-handler";
import { FEED_OVERLAP_MS, FEED_PAGE } from "./trust-feeds";
import { revokeVouchersOfClaims } from "./voucher-service";

const MINUTE = 60_000;
let now = clockStart();

const world = withTestServices({ clock: () => now });

/**
 * A counter device as the PWA runs it, minus IndexedDB: the shared refresh loop, its pages
 * fetched over HTTP with the device credential, its entries kept in maps.
 */
function counterDevice(credential: string) {
  const revoked = new Map<string, Date>();
  const redeemedElsewhere = new Map<string, { redeemedAt: Date; where: string }>();
  let positions: FeedPositions = { revocations: null, redemptions: null };
  let requests = 0;
  let cutAfter = Number.POSITIVE_INFINITY;
  const fetchPage = async (request: FeedRequest): Promise<TrustPage> => {
    requests++;
    if (requests > cutAfter) throw new TypeError("Failed to fetch");
    const envelope = encodeURIComponent(JSON.stringify(superjson.serialize(request)));
    const response = await handleTrpcRequest(
      world.services,
      new Request(`http://127.0.0.1/api/trpc/device.trustBundle?input=${envelope}`, {
        headers: { "x-device-credential": credential },
      }),
      testCaller(),
    );
    const body = (await response.json()) as { result?: { data: never }; error?: unknown };
    if (!body.result) throw new Error(`trustBundle answered ${JSON.stringify(body.error)}`);
    return superjson.deserialize(body.result.data);
  };
  const refresh = async () => {
    const done = await refreshTrustInFull(positions, {
      fetchPage,
      saveEntries: async (page) => {
        for (const r of page.revocations?.entries ?? []) revoked.set(r.voucherId, r.revokedAt);
        for (const r of page.redemptions?.entries ?? []) redeemedElsewhere.set(r.voucherId, r);
      },
      deviceNow: () => now.getTime(),
    });
    positions = done.positions;
    return done;
  };
  return {
    revoked,
    redeemedElsewhere,
    refresh,
    get requests() {
      return requests;
    },
    cutNetworkAfter(more: number) {
      cutAfter = requests + more;
    },
    restoreNetwork() {
      cutAfter = Number.POSITIVE_INFINITY;
    },
  };
}

async function shop() {
  const { merchant, staff } = await createShopWithStaff(world.database.db);
  const deal = await createDeal(world.database.db, merchant.id, { quantity: 10_000, now });
  const enroll = async (name: string) => {
    const device = await world.services.devices.enroll(staff, name);
    return { ...device, counter: counterDevice(device.credential) };
  };
  const claimVoucher = async () => {
    const [shopper] = await createShoppers(world.database.db, 1);
    const won = await world.services.claims.claim(shopper as string, {
      dealId: deal.id,
      idempotencyKey: newId(),
    });
    if (won.outcome !== "WON") throw new Error(`claim answered ${won.outcome}`);
    const voucher = await world.services.vouchers.forShopper(
      shopper as string,
      won.voucherId ?? "",
    );
    return { ...voucher, shopper: shopper as string };
  };
  /** The deal is cancelled with `count` vouchers out: as many revocations, one timestamp. */
  const cancelWithVouchers = async (count: number) => {
    for (const statement of bulkClaimsWithVouchers({
      prefix: newId().slice(0, 4),
      dealId: deal.id,
      merchantId: merchant.id,
      count,
      issuedAt: now,
      expiresAt: deal.voucherValidUntil,
    })) {
      await world.database.db.execute(sql.raw(statement));
    }
    return world.services.dealManagement.cancel(staff, deal.id, "oven broke down");
  };
  return { merchant, staff, deal, enroll, claimVoucher, cancelWithVouchers };
}

describe("the revocation feed", () => {
  it("brings 10,000 revocations with one timestamp (a cancelled deal) to a device in full, in ten requests", async () => {
    const { deal, enroll, cancelWithVouchers } = await shop();
    const till = await enroll("Till 1");
    await till.counter.refresh();
    const before = till.counter.requests;

    now = new Date(now.getTime() + 5_000);
    const cancelled = await cancelWithVouchers(10_000);
    expect(cancelled.claimsCancelled).toBe(10_000);
    const stamps = await world.database.db
      .selectDistinct({ at: vouchers.revokedAt })
      .from(vouchers)
      .where(eq(vouchers.dealId, deal.id));
    expect(stamps).toEqual([{ at: now }]);

    now = new Date(now.getTime() + 1_000);
    await till.counter.refresh();
    expect(till.counter.revoked.size).toBe(10_000);
    expect(till.counter.requests - before).toBe(10_000 / FEED_PAGE);
  });

  it("finds a revocation committed late with an earlier time, and re-reads only a bounded overlap", async () => {
    const { enroll, claimVoucher } = await shop();
    const early = await claimVoucher();
    const late = await claimVoucher();
    const till = await enroll("Till 2");
    await till.counter.refresh();

    // One cancellation stamps its revocation, then takes a while to commit; another, stamped
    // five seconds later, commits first, and the device refreshes in between.
    const stampedEarly = now;
    let commit: () => void = () => undefined;
    const committed = new Promise<void>((resolve) => {
      commit = resolve;
    });
    const slow = world.database.db.transaction(async (tx) => {
      await revokeVouchersOfClaims(tx, [early.claimId], "cancelled by the shopper", stampedEarly);
      await committed;
    });
    now = new Date(stampedEarly.getTime() + 5_000);
    await world.services.claims.cancel(late.shopper, late.claimId);
    now = new Date(stampedEarly.getTime() + 10_000);
    await till.counter.refresh();
    expect([...till.counter.revoked.keys()]).toEqual([late.id]);

    commit();
    await slow;
    now = new Date(stampedEarly.getTime() + 20_000);
    await till.counter.refresh();
    expect(new Set(till.counter.revoked.keys())).toEqual(new Set([late.id, early.id]));

    // The overlap is bounded: a minute on, the next refresh reads them a last time, and the
    // one after reads nothing: one request, no entries.
    now = new Date(stampedEarly.getTime() + FEED_OVERLAP_MS + 20_000);
    await till.counter.refresh();
    now = new Date(now.getTime() + 10_000);
    const requests = till.counter.requests;
    const quiet = await till.counter.refresh();
    expect(till.counter.requests - requests).toBe(1);
    expect(quiet.page.revocations?.entries).toEqual([]);
  });

  it("completes a refresh cut short on the next one, from where the last completed refresh left off", async () => {
    const { enroll, cancelWithVouchers } = await shop();
    const till = await enroll("Till 3");
    await till.counter.refresh();
    await cancelWithVouchers(2_500);

    till.counter.cutNetworkAfter(2);
    await expect(till.counter.refresh()).rejects.toThrow("Failed to fetch");
    expect(till.counter.revoked.size).toBe(2 * FEED_PAGE);
    till.counter.restoreNetwork();
    await till.counter.refresh();
    expect(till.counter.revoked.size).toBe(2_500);
  });

  it("runs one refresh at a time: triggers that arrive while one runs join it", async () => {
    const { enroll, cancelWithVouchers } = await shop();
    const till = await enroll("Till 4");
    await cancelWithVouchers(3_000);

    const sync = oneAtATime(till.counter.refresh);
    const [timer, reconnect, afterScan] = await Promise.all([sync(), sync(), sync()]);
    expect(till.counter.requests).toBe(3);
    expect(reconnect).toBe(timer);
    expect(afterScan).toBe(timer);
    expect(till.counter.revoked.size).toBe(3_000);
    // Once it has finished, the next trigger starts a new one (which re-reads the overlap:
    // the revocations are seconds old, so the same three pages).
    await sync();
    expect(till.counter.requests).toBe(6);
  });

  it("refuses a position that is not one", async () => {
    const { enroll } = await shop();
    const till = await enroll("Till 5");
    for (const revocations of [
      { at: new Date(0), id: "x'; DROP" },
      { at: "yesterday", id: "" },
    ]) {
      const envelope = encodeURIComponent(JSON.stringify({ json: { revocations } }));
      const response = await handleTrpcRequest(
        world.services,
        new Request(`http://127.0.0.1/api/trpc/device.trustBundle?input=${envelope}`, {
          headers: { "x-device-credential": till.credential },
        }),
        testCaller(),
      );
      expect(response.status).toBe(400);
    }
  });
});

describe("the feed of other tills' redemptions", () => {
  it("refuses, after its next refresh, at every other till a voucher redeemed and synced at one", async () => {
    const { enroll, claimVoucher, staff, merchant } = await shop();
    const tillA = await enroll("Till A");
    const tillB = await enroll("Till B");
    await tillB.counter.refresh();
    const atA = await claimVoucher();
    const online = await claimVoucher();

    const redeemedAt = new Date(now.getTime() - 5 * MINUTE);
    const a = await world.services.devices.authenticate(tillA.credential);
    expect(
      await world.services.redemptionSync.sync(a, {
        redemptions: [{ localId: "a-1", token: atA.token, redeemedAt }],
      }),
    ).toMatchObject([{ status: "recorded" }]);
    expect(
      await world.services.redemptions.redeem({
        merchantId: merchant.id,
        token: online.token,
        staffUserId: staff.userId,
      }),
    ).toMatchObject({ accepted: true });

    const done = await tillB.counter.refresh();
    expect(Object.fromEntries(tillB.counter.redeemedElsewhere)).toEqual({
      [atA.id]: {
        voucherId: atA.id,
        redeemedAt,
        where: 'on device "Till A"',
        expiresAt: atA.expiresAt,
      },
      [online.id]: {
        voucherId: online.id,
        redeemedAt: now,
        where: "online by Sam at the till",
        expiresAt: online.expiresAt,
      },
    });
    // Till B, offline now, judges with what it holds.
    const verdict = await judgeAtCounter(atA.token, {
      trust: {
        keys: done.page.keys,
        deals: {},
        clockSkewSeconds: done.page.clockSkewSeconds,
        maxTrustAgeMs: done.page.maxTrustAgeMs,
        ...done.clock,
      },
      merchantId: merchant.id,
      deviceNow: now.getTime(),
      lookups: {
        isRevoked: async (id) => tillB.counter.revoked.has(id),
        firstRedemption: async (id) => tillB.counter.redeemedElsewhere.get(id) ?? null,
      },
    });
    expect(verdict).toMatchObject({
      accepted: false,
      reason: "ALREADY_REDEEMED",
      firstRedemption: { redeemedAt, where: 'on device "Till A"' },
    });

    // Till A is not sent its own redemption back; it has it.
    await tillA.counter.refresh();
    expect([...tillA.counter.redeemedElsewhere.keys()]).toEqual([online.id]);
  });

  it("carries only vouchers not yet expired", async () => {
    const { merchant, staff } = await createShopWithStaff(world.database.db);
    const deal = await createDeal(world.database.db, merchant.id, { quantity: 2, now });
    const [shopper] = await createShoppers(world.database.db, 1);
    const won = await world.services.claims.claim(shopper as string, {
      dealId: deal.id,
      idempotencyKey: newId(),
    });
    const voucher = await world.services.vouchers.forShopper(
      shopper as string,
      won.outcome === "WON" ? (won.voucherId ?? "") : "",
    );
    await world.services.redemptions.redeem({
      merchantId: merchant.id,
      token: voucher.token,
      staffUserId: staff.userId,
    });
    const enroll = async (name: string) =>
      counterDevice((await world.services.devices.enroll(staff, name)).credential);
    const today = await enroll("Till 1");
    await today.refresh();
    expect([...today.redeemedElsewhere.keys()]).toEqual([voucher.id]);
    const later = now;
    try {
      // Past its expiry and the skew a device allows, every device refuses it anyway.
      now = new Date(deal.voucherValidUntil.getTime() + 121_000);
      const nextWeek = await enroll("Till 2");
      await nextWeek.refresh();
      expect(nextWeek.redeemedElsewhere.size).toBe(0);
    } finally {
      now = later;
    }
  });
});

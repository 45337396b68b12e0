import "server-only";
import { LRUCache } from "lru-cache";
import { type Db, pgErrorCode } from "@/db/client";
import type { ClaimResult } from "@/lib/claims/claim-contract";
import { newId } from "@/lib/ids";
import { DomainError } from "../errors";
import type { RedisClient } from "../redis/client";
import { LuaScript } from "../redis/lua-script";
import {
  type CancelledClaim,
  type ClaimEngine,
  type ClaimRequest,
  outOfAreaError,
} from "./claim-engine";
import { CLAIM_LIMITS, rateLimitedError } from "./claim-limits";
import { findPriorClaim, insertWinningClaim } from "./claim-records";
import { type GateKeys, gateKeys, pendingMember } from "./gate-keys";
import { decodeGateReply, type GateReply } from "./gate-reply";
import type { RedisGateLoader } from "./redis-gate-loader";
import { type VoucherDrafts, WinnerWrites, WRITE_ALONE, type WrittenClaim } from "./winner-writes";

const claimScript = new LuaScript("server/claims/lua/claim.lua");
const releaseScript = new LuaScript("server/claims/lua/release.lua");

/**
 * How long a winner waits for its row. A connection Postgres stopped answering on (no reset,
 * just silence) would otherwise hold the shopper until the operating system gives up on it.
 */
const WINNER_WRITE_DEADLINE_MS = 5_000;
const WRITE_OVERDUE = Symbol("write overdue");

export interface RedisClaimEngineOptions {
  redis: RedisClient;
  db: Db;
  loader: RedisGateLoader;
  keyPrefix: string;
  reservationMs: number;
  /** Free deals' vouchers signed ahead and committed with their claims (see WinnerWrites). */
  vouchers?: VoucherDrafts;
}

/**
 * The Redis gate: one Lua call decides each attempt; only winners go on to Postgres, and
 * they are written there before anyone hears "won". A failed write gives the unit back.
 */
export class RedisClaimEngine implements ClaimEngine {
  /** Winners' rows, group-committed (see WinnerWrites). */
  readonly winnerWrites: WinnerWrites;
  /** Bounded, least recently used first: a flood of made-up deal ids must not drop a live one's. */
  private readonly keysByDeal = new LRUCache<string, GateKeys>({ max: 10_000 });
  /** Winners' pending marks, cleared by one ZREM per deal for all of a batch's winners. */
  private readonly pendingMarks: PendingMarks;
  /** Winners whose write is under way (an overdue one included: it goes on after its answer). */
  private readonly unsettled = new Set<Promise<unknown>>();

  constructor(private readonly options: RedisClaimEngineOptions) {
    this.winnerWrites = new WinnerWrites(options.db, options.vouchers);
    this.pendingMarks = new PendingMarks(options.redis);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const claimId = newId();
    const reply = await this.askGate(request, claimId);
    request.decided?.();
    switch (reply.outcome) {
      case "WON":
        return reply.replay
          ? this.replayWin(request, reply.inFlight)
          : this.recordWin({ ...request, claimId });
      case "ALREADY_CLAIMED":
      case "ALREADY_CANCELLED":
        return { outcome: reply.outcome, claimId: reply.claimId };
      case "OUT_OF_AREA":
        throw outOfAreaError(reply.distanceM, reply.radiusM);
      case "SOLD_OUT":
      case "NOT_STARTED":
      case "ENDED":
      case "CANCELLED":
        return { outcome: reply.outcome };
      case "NOT_FOUND":
        throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId: request.dealId });
      case "RATE_LIMITED":
        throw rateLimitedError(reply.retryAfterMs);
      case "NOT_LOADED":
      case "UNREADABLE":
        throw new DomainError("UNAVAILABLE", "The sale could not be reached; please try again.");
    }
  }

  async returnCancelledUnit(claim: CancelledClaim): Promise<void> {
    // The idempotency key is kept, so a late retry of the old attempt replays the cancelled
    // claim instead of winning a new one.
    await releaseGrant(this.options.redis, this.options.keyPrefix, claim, {
      returnUnit: true,
      forgetIdempotencyKey: false,
      barUser: claim.hadVoucher,
    }).catch(() => undefined);
  }

  async dealChanged(dealId: string): Promise<void> {
    this.options.vouchers?.forgetDeal(dealId);
    await this.options.loader.syncDeal(dealId);
    await this.options.loader.ensureLoaded(dealId);
  }

  async prepare(dealId: string): Promise<void> {
    await this.options.loader.ensureLoaded(dealId);
  }

  /**
   * The gate's half of a claim, without the Postgres write. Tests use it to stand for a
   * process that crashed right after the gate said yes.
   */
  async reserveAtGate(request: ClaimRequest): Promise<string> {
    const claimId = newId();
    const reply = await this.askGate(request, claimId);
    if (reply.outcome !== "WON" || reply.replay)
      throw new Error(`the gate answered ${reply.outcome}`);
    return claimId;
  }

  private async askGate(request: ClaimRequest, claimId: string): Promise<GateReply> {
    const keys = this.keysOf(request.dealId);
    const keyList = [
      ...keys.forScripts,
      keys.shopperAttempts(request.userId),
      keys.addressAttempts(request.ip ?? ""),
    ];
    const args = [
      request.userId,
      request.idempotencyKey,
      claimId,
      request.now.getTime(),
      request.position?.lat ?? "",
      request.position?.lng ?? "",
      CLAIM_LIMITS.perShopper,
      request.ip ? CLAIM_LIMITS.perAddress : 0,
      CLAIM_LIMITS.windowMs,
    ];
    const reply = decodeGateReply(await claimScript.run(this.options.redis, keyList, args));
    if (reply.outcome !== "NOT_LOADED") return reply;
    await this.options.loader.ensureLoaded(request.dealId);
    return decodeGateReply(await claimScript.run(this.options.redis, keyList, args));
  }

  /** A deal's key names, made once per deal rather than once per attempt. */
  private keysOf(dealId: string): GateKeys {
    let keys = this.keysByDeal.get(dealId);
    if (!keys) {
      keys = gateKeys(this.options.keyPrefix, dealId);
      this.keysByDeal.set(dealId, keys);
    }
    return keys;
  }

  /**
   * Undoes a grant whose claim was not recorded. The unit goes back unless Postgres refused
   * it for want of stock, in which case the gate had counted a unit that does not exist.
   * If Redis fails here too, the pending mark stays and the reconciler settles it later.
   */
  private async undoGrant(request: ClaimRequest & { claimId: string }, returnUnit: boolean) {
    await releaseGrant(this.options.redis, this.options.keyPrefix, request, { returnUnit }).catch(
      () => undefined,
    );
  }

  /**
   * Writes a winner and answers once the row is committed, or UNAVAILABLE once the write has
   * taken WINNER_WRITE_DEADLINE_MS. An overdue write is not abandoned: it goes on, and settles
   * the gate when Postgres finally answers (the win stands, or the unit goes back), so a
   * shopper who retries with the same key is told what happened.
   */
  private async recordWin(request: ClaimRequest & { claimId: string }): Promise<ClaimResult> {
    const writing = this.writeWinner(request);
    this.unsettled.add(writing);
    void writing.finally(() => this.unsettled.delete(writing));
    const settled = await withinDeadline(WINNER_WRITE_DEADLINE_MS, writing);
    if (settled === WRITE_OVERDUE) {
      throw new DomainError("UNAVAILABLE", "Your claim is still being recorded; please retry.", {
        retryAfterMs: 1_000,
      });
    }
    if (DomainError.is(settled)) throw settled;
    return settled;
  }

  async settle(): Promise<void> {
    while (this.unsettled.size > 0) await Promise.allSettled([...this.unsettled]);
  }

  /** The winner's row, then the gate settled with what Postgres said. Never rejects. */
  private async writeWinner(
    request: ClaimRequest & { claimId: string },
  ): Promise<ClaimResult | DomainError> {
    let recorded: WrittenClaim | null;
    try {
      const claim = { ...request, reservationMs: this.options.reservationMs };
      const batched = await this.winnerWrites.write(claim);
      recorded =
        batched === WRITE_ALONE ? await insertWinningClaim(this.options.db, claim) : batched;
    } catch (error) {
      await this.undoGrant(request, true);
      if (pgErrorCode(error) === "23505") {
        // The gate was rebuilt while this user's earlier win was still being written.
        const prior = await findPriorClaim(this.options.db, request).catch(() => null);
        if (prior) return prior;
      }
      return new DomainError("UNAVAILABLE", "Your claim could not be recorded; please try again.", {
        cause: String(error),
      });
    }
    if (!recorded) {
      // Postgres counts the deal full (or cancelled) although the gate had a unit:
      // the gate was ahead of the truth, and Postgres wins.
      await this.undoGrant(request, false);
      return { outcome: "SOLD_OUT" };
    }
    // The claim is durable now. If clearing the pending mark fails, the win still stands:
    // the reconciler finds the claim row and clears the mark itself.
    await this.pendingMarks.clear(
      this.keysOf(request.dealId).pending,
      pendingMember(request.claimId, request.userId, request.idempotencyKey),
    );
    return { outcome: "WON", claimId: request.claimId, ...recorded, replayed: false };
  }

  /** A retried key: answer with the original claim once Postgres holds it. */
  private async replayWin(request: ClaimRequest, inFlight: boolean): Promise<ClaimResult> {
    // While the original request is still writing, wait for its row (up to about a second).
    const deadline = Date.now() + (inFlight ? 1_000 : 0);
    for (;;) {
      const prior = await findPriorClaim(this.options.db, request);
      if (prior) return prior;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new DomainError("UNAVAILABLE", "Your claim is still being recorded; please retry.");
  }
}

/**
 * Clears pending marks (the gate's record of a grant not yet known to Postgres) in one ZREM
 * per deal per turn of the event loop: a batch's winners all come back in the same turn, so a
 * batch of 300 costs one Redis command instead of 300. Never rejects: a mark left behind is
 * the reconciler's to clear once it finds the claim row.
 */
class PendingMarks {
  private readonly waiting = new Map<string, string[]>();
  private flushing: Promise<void> | null = null;

  constructor(private readonly redis: RedisClient) {}

  clear(pendingKey: string, member: string): Promise<void> {
    const members = this.waiting.get(pendingKey);
    if (members) members.push(member);
    else this.waiting.set(pendingKey, [member]);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.flush(),
    );
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = [...this.waiting];
    this.waiting.clear();
    this.flushing = null;
    await Promise.all(
      batch.map(([key, members]) => this.redis.zrem(key, ...members).catch(() => undefined)),
    );
  }
}

/**
 * Takes one grant back from a deal's gate (release.lua): the user and the key are forgotten
 * (the key is kept when `forgetIdempotencyKey` is false; the user is kept, barred, when
 * `barUser`), and the unit returns unless `returnUnit` is false. Acts at most once per grant.
 */
export async function releaseGrant(
  redis: RedisClient,
  keyPrefix: string,
  grant: { dealId: string; userId: string; claimId: string; idempotencyKey: string },
  how: { returnUnit: boolean; forgetIdempotencyKey?: boolean; barUser?: boolean },
): Promise<boolean> {
  const released = await releaseScript.run(redis, gateKeys(keyPrefix, grant.dealId).forScripts, [
    grant.userId,
    grant.claimId,
    grant.idempotencyKey,
    how.forgetIdempotencyKey === false ? "0" : "1",
    how.returnUnit ? "1" : "0",
    how.barUser ? "1" : "0",
  ]);
  return released === 1;
}

/** What `work` settles to, or WRITE_OVERDUE if that takes over `ms` (it keeps running). */
async function withinDeadline<T>(ms: number, work: Promise<T>): Promise<T | typeof WRITE_OVERDUE> {
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<typeof WRITE_OVERDUE>((resolve) => {
    timer = setTimeout(() => resolve(WRITE_OVERDUE), ms);
  });
  try {
    return await Promise.race([work, overdue]);
  } finally {
    clearTimeout(timer);
  }
}

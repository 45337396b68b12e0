import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { deals } from "@/db/schema";
import { dealPhase } from "@/lib/deals/deal-rules";
import { type Actor, assertMayManage } from "../auth/actor";
import type { GateStatusService } from "../claims/gate-status";
import { DomainError } from "../errors";
import { redemptionFigures } from "../vouchers/redemption-figures";
import type { SaleStats } from "./sale-stats";
import { everySecond, SharedFeed, type Ticker } from "./shared-feed";

/** Seconds of history the monitor draws, and the window its headline numbers cover. */
const HISTORY_SECONDS = 90;
const RECENT_SECONDS = 5;

/**
 * What an admin or the merchant sees of a running sale, once a second: attempts per second
 * by outcome, latency, sold against quantity, the gate against Postgres, and redemptions with
 * their conflicts. Every viewer of a deal on this process is sent the same snapshot, computed
 * once a second for all of them (SharedFeed): 30 monitors open on one deal cost one snapshot a
 * second, not 30.
 */
export class SaleMonitor {
  private readonly feed: SharedFeed<SaleSnapshot>;

  constructor(
    private readonly db: Db,
    private readonly stats: SaleStats,
    private readonly gates: GateStatusService,
    private readonly clock: () => Date = () => new Date(),
    ticker: Ticker = everySecond,
  ) {
    this.feed = new SharedFeed((dealId) => this.compute(dealId), ticker);
  }

  async snapshot(actor: Actor, dealId: string): Promise<SaleSnapshot> {
    return this.compute(dealId, actor);
  }

  /** The deal's snapshot now and every second after, until the viewer goes away. */
  async *watch(actor: Actor, dealId: string, signal: AbortSignal | undefined) {
    for await (const snapshot of this.feed.follow(dealId, signal)) {
      assertMayManage(actor, snapshot.deal.merchantId);
      yield snapshot;
    }
  }

  /** Deals whose snapshot is being computed for viewers now. */
  get watchedDeals(): number {
    return this.feed.running;
  }

  /** With an actor, checked before the traffic and the gate are read. */
  private async compute(dealId: string, actor?: Actor) {
    const [deal] = await this.db
      .select({
        id: deals.id,
        title: deals.title,
        merchantId: deals.merchantId,
        status: deals.status,
        quantity: deals.quantity,
        sold: deals.sold,
        startsAt: deals.startsAt,
        endsAt: deals.endsAt,
      })
      .from(deals)
      .where(eq(deals.id, dealId));
    if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
    if (actor) assertMayManage(actor, deal.merchantId);
    const now = this.clock();
    // The second under way is still filling: the series ends with the last whole one.
    const last = Math.floor(now.getTime() / 1_000) - 1;
    const [traffic, gate, redemptions] = await Promise.all([
      this.stats.read(dealId, last - HISTORY_SECONDS + 1, last, RECENT_SECONDS),
      this.gates.status(dealId),
      redemptionFigures(this.db, dealId),
    ]);
    return {
      at: now,
      deal: { ...deal, phase: dealPhase(deal, now) },
      gate,
      redemptions,
      seconds: traffic.seconds,
      recent: traffic.recent,
    };
  }
}

export type SaleSnapshot = Awaited<ReturnType<SaleMonitor["compute"]>>;

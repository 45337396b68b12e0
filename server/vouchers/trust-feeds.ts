import "server-only";
import { and, eq, gt, isNotNull, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "@/db/client";
import { redemptions, vouchers } from "@/db/schema";
import type {
  FeedPage,
  FeedPosition,
  FeedRequest,
  RedemptionEntry,
  RevocationEntry,
} from "@/lib/vouchers/trust-feed";
import { describeWhere, redemptionsWithWho } from "./first-redemption";

/**
 * How long after its time a feed row may still become visible. Rows are stamped with an app
 * instance's clock before their transaction commits, and instances' clocks differ a little,
 * so a row committed late (another transaction, stamped earlier, committed after a device read
 * past it) can carry a time a device has already read past. A completed refresh therefore
 * hands out a position this far back, and the next refresh re-reads that much: the overlap is
 * bounded in time, and the keyset on id keeps its re-read moving forward page by page. A
 * transaction that stamps rows must commit within this time of its stamp.
 */
export const FEED_OVERLAP_MS = 60_000;
export const FEED_PAGE = 1_000;

const START: FeedPosition = { at: new Date(0), id: "" };

/**
 * The incremental feeds a counter device keeps offline: the merchant's revocations and the
 * redemptions synced from its other tills. Both are bounded to vouchers not yet expired
 * (within the skew a device allows), since a device refuses an expired voucher anyway.
 */
export class TrustFeeds {
  constructor(
    private readonly db: Db,
    private readonly clockSkewSeconds: number,
    private readonly clock: () => Date,
  ) {}

  /** The feeds a device asked for, and the server's time of reading (the device's clock check). */
  async read(device: { merchantId: string; deviceId: string }, request: FeedRequest) {
    const serverTime = this.clock();
    const [revocations, redemptions] = await Promise.all([
      request.revocations === undefined
        ? null
        : this.revocations(device.merchantId, request.revocations, serverTime),
      request.redemptions === undefined
        ? null
        : this.redemptions(device.merchantId, device.deviceId, request.redemptions, serverTime),
    ]);
    return { revocations, redemptions, serverTime };
  }

  async revocations(
    merchantId: string,
    after: FeedPosition | null,
    readAt = this.clock(),
  ): Promise<FeedPage<RevocationEntry>> {
    const rows = await this.db
      .select({
        voucherId: vouchers.id,
        revokedAt: vouchers.revokedAt,
        reason: vouchers.revokeReason,
        expiresAt: vouchers.expiresAt,
      })
      .from(vouchers)
      .where(
        and(
          eq(vouchers.merchantId, merchantId),
          isNotNull(vouchers.revokedAt),
          pastPosition(vouchers.revokedAt, vouchers.id, after ?? START),
          gt(vouchers.expiresAt, this.oldestStillAccepted(readAt)),
        ),
      )
      .orderBy(vouchers.revokedAt, vouchers.id)
      .limit(FEED_PAGE + 1);
    return pageOf(
      rows.map((row) => ({
        entry: { ...row, revokedAt: row.revokedAt as Date },
        position: { at: row.revokedAt as Date, id: row.voucherId },
      })),
      readAt,
    );
  }

  /** Redemptions other devices (or staff online) made and the server recorded. */
  async redemptions(
    merchantId: string,
    exceptDeviceId: string | null,
    after: FeedPosition | null,
    readAt = this.clock(),
  ): Promise<FeedPage<RedemptionEntry>> {
    const rows = await redemptionsWithWho(this.db, {
      id: redemptions.id,
      voucherId: redemptions.voucherId,
      redeemedAt: redemptions.redeemedAt,
      receivedAt: redemptions.receivedAt,
      expiresAt: vouchers.expiresAt,
    })
      .innerJoin(vouchers, eq(vouchers.id, redemptions.voucherId))
      .where(
        and(
          eq(redemptions.merchantId, merchantId),
          pastPosition(redemptions.receivedAt, redemptions.id, after ?? START),
          gt(vouchers.expiresAt, this.oldestStillAccepted(readAt)),
          // Its own redemptions a device has already.
          exceptDeviceId
            ? sql`${redemptions.deviceId} IS DISTINCT FROM ${exceptDeviceId}`
            : undefined,
        ),
      )
      .orderBy(redemptions.receivedAt, redemptions.id)
      .limit(FEED_PAGE + 1);
    return pageOf(
      rows.map((row) => ({
        entry: {
          voucherId: row.voucherId,
          redeemedAt: row.redeemedAt,
          where: describeWhere(row.deviceName, row.staffName),
          expiresAt: row.expiresAt,
        },
        position: { at: row.receivedAt, id: row.id },
      })),
      readAt,
    );
  }

  /** A voucher that expired before this is refused by every device, whatever the lists say. */
  private oldestStillAccepted(readAt: Date): Date {
    return new Date(readAt.getTime() - this.clockSkewSeconds * 1_000);
  }
}

/** Rows strictly after a keyset position, in the order (time, id) the index holds them. */
function pastPosition(at: AnyPgColumn, id: AnyPgColumn, position: FeedPosition): SQL {
  return sql`(${at}, ${id}) > (${position.at.toISOString()}::timestamptz, ${position.id})`;
}

function pageOf<Entry>(
  rows: { entry: Entry; position: FeedPosition }[],
  readAt: Date,
): FeedPage<Entry> {
  const complete = rows.length <= FEED_PAGE;
  const page = rows.slice(0, FEED_PAGE);
  const last = page.at(-1)?.position;
  return {
    entries: page.map((row) => row.entry),
    next: complete || !last ? { at: new Date(readAt.getTime() - FEED_OVERLAP_MS), id: "" } : last,
    complete,
  };
}

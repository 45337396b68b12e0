import { z } from "zod";
import { timestampSchema } from "../storable-input";

/**
 * Where a device stands in one of its incremental feeds (revocations, other tills'
 * redemptions): a keyset position on (time, id). Positions come from the server and go back
 * to it unchanged; rows with the same time are told apart by id, so a page always advances.
 */
export interface FeedPosition {
  at: Date;
  /** "" is before every id at `at`. */
  id: string;
}

export const feedPositionSchema = (name: string) =>
  z.object({
    at: timestampSchema(`${name}.at`),
    id: z.string().regex(/^[0-9A-Za-z]{0,12}$/, `${name}.id must be an id from an earlier page`),
  });

export interface FeedPage<Entry> {
  entries: Entry[];
  /**
   * Where to read next. While not complete: the last entry, to continue this refresh. Once
   * complete: a position some way back, so the next refresh re-reads the rows that may still
   * be committed with an earlier time (see FEED_OVERLAP_MS on the server).
   */
  next: FeedPosition;
  complete: boolean;
}

export interface RevocationEntry {
  voucherId: string;
  revokedAt: Date;
  reason: string | null;
  expiresAt: Date;
}

/** A redemption made at another till (or online) and synced: refused here from now on. */
export interface RedemptionEntry {
  voucherId: string;
  redeemedAt: Date;
  /** In words: `on device "Till 1"`, or `online by Sam`. */
  where: string;
  expiresAt: Date;
}

export type FeedName = "revocations" | "redemptions";

/** What a device asks for: a position per feed it still reads (absent: not this time). */
export type FeedRequest = Partial<Record<FeedName, FeedPosition | null>>;

export const feedRequestSchema = z.object({
  revocations: feedPositionSchema("revocations").nullable().optional(),
  redemptions: feedPositionSchema("redemptions").nullable().optional(),
});

import { readServerClock, type ServerClockReading } from "./server-clock";
import type {
  FeedName,
  FeedPage,
  FeedPosition,
  FeedRequest,
  RedemptionEntry,
  RevocationEntry,
} from "./trust-feed";
import type { VoucherPublicKey } from "./voucher-format";

/** One answer of `device.trustBundle`. */
export interface TrustPage {
  keys: VoucherPublicKey[];
  deals: { id: string; title: string }[];
  revocations: FeedPage<RevocationEntry> | null;
  redemptions: FeedPage<RedemptionEntry> | null;
  clockSkewSeconds: number;
  maxTrustAgeMs: number;
  serverTime: Date;
}

export type FeedPositions = Record<FeedName, FeedPosition | null>;

export interface TrustRefreshIo {
  fetchPage(request: FeedRequest): Promise<TrustPage>;
  /**
   * Keeps a page's entries. Entries are merged by voucher id, so a refresh that fails half
   * way and starts again from its old positions only reads some of them twice.
   */
  saveEntries(page: TrustPage): Promise<void>;
  /** The device's own clock, in ms. */
  deviceNow(): number;
}

export interface CompletedRefresh {
  /** The last page: its keys, deals and limits are the newest. */
  page: TrustPage;
  /** Where the next refresh starts. */
  positions: Record<FeedName, FeedPosition>;
  clock: ServerClockReading;
}

const FEEDS: readonly FeedName[] = ["revocations", "redemptions"];
/** A thousand pages is a million rows a feed; past that the server is not advancing. */
const MAX_PAGES = 1_000;

/**
 * Reads every feed to its end, page after page from where the last completed refresh left
 * off. Only a refresh that read everything counts: it alone returns (and the caller then
 * saves the new positions and the trust's freshness); one cut short throws and changes
 * neither, so the device's trust ages as it should and the next refresh starts where this
 * one did.
 */
export async function refreshTrustInFull(
  from: FeedPositions,
  io: TrustRefreshIo,
): Promise<CompletedRefresh> {
  const reading: FeedRequest = { ...from };
  const finished: Partial<Record<FeedName, FeedPosition>> = {};
  for (let pages = 1; pages <= MAX_PAGES; pages++) {
    const sentAt = io.deviceNow();
    const page = await io.fetchPage(reading);
    const receivedAt = io.deviceNow();
    await io.saveEntries(page);
    for (const name of FEEDS) {
      if (!(name in reading)) continue;
      const feed = page[name];
      if (!feed) throw new Error(`The server's answer has no ${name}.`);
      if (feed.complete) {
        finished[name] = feed.next;
        delete reading[name];
      } else {
        assertAdvanced(name, reading[name] ?? null, feed.next);
        reading[name] = feed.next;
      }
    }
    if (FEEDS.every((name) => finished[name])) {
      return {
        page,
        positions: finished as Record<FeedName, FeedPosition>,
        clock: readServerClock(page.serverTime, sentAt, receivedAt),
      };
    }
  }
  throw new Error(`The trust refresh did not finish in ${MAX_PAGES} pages.`);
}

/** A page that does not move its feed forward would be read again and again. */
function assertAdvanced(name: FeedName, before: FeedPosition | null, next: FeedPosition) {
  const same = before && before.at.getTime() === next.at.getTime() && before.id === next.id;
  if (same || (before && next.at < before.at)) {
    throw new Error(`The server's ${name} feed did not move forward.`);
  }
}

import "server-only";
import { DomainError } from "../errors";
import { addressBlock } from "../net/address-block";

export interface StreamLimits {
  /** Streams one client address may hold open on this process. */
  perAddress: number;
  /** Streams one signed-in account may hold open on this process, over all its sessions. */
  perAccount: number;
}

/** Who opens a stream: the client's address (as the edge computed it), and the account if any. */
export interface StreamHolder {
  address: string;
  accountId?: string | null;
}

/** One open stream's place. Safe to release more than once, from every way a stream can end. */
export interface StreamSlot {
  release(): void;
}

/** A stream ends when its reader leaves, so the delay is a guess: long enough not to hammer. */
const RETRY_AFTER_MS = 10_000;

/**
 * Long-lived streams (live stock, the sale monitor) open on this process, counted per client
 * address and per signed-in account. Each holds a socket and a file descriptor until its reader
 * goes, so one client could otherwise take the process's file limit for itself. Counted per
 * process (a stream lives on the process that serves it), so the map holds only addresses
 * and accounts with a stream open now.
 *
 * Per account rather than per session token: signing in again mints a new session, so a cap
 * per token would be no cap. IPv6 addresses count per /64 (addressBlock).
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly limits: StreamLimits) {}

  /** A place for one more stream, or RATE_LIMITED (429 with a retry delay) when it has none. */
  take(holder: StreamHolder): StreamSlot {
    const keys = [`address:${addressBlock(holder.address)}`];
    if (holder.accountId) keys.push(`account:${holder.accountId}`);
    if ((this.open.get(keys[0] as string) ?? 0) >= this.limits.perAddress) {
      throw refusal("this address");
    }
    if (keys[1] && (this.open.get(keys[1]) ?? 0) >= this.limits.perAccount) {
      throw refusal("this account");
    }
    for (const key of keys) this.open.set(key, (this.open.get(key) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const key of keys) {
          const left = (this.open.get(key) ?? 1) - 1;
          if (left > 0) this.open.set(key, left);
          else this.open.delete(key);
        }
      },
    };
  }

  /** Streams open now for the holder's address and account. */
  held(holder: StreamHolder): { address: number; account: number } {
    return {
      address: this.open.get(`address:${addressBlock(holder.address)}`) ?? 0,
      account: holder.accountId ? (this.open.get(`account:${holder.accountId}`) ?? 0) : 0,
    };
  }
}

function refusal(whose: string): DomainError {
  return new DomainError(
    "RATE_LIMITED",
    `Too many live streams are open for ${whose}: close one (another tab?) and try again.`,
    { retryAfterMs: RETRY_AFTER_MS },
  );
}

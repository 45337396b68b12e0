import "server-only";
import { DomainError } from "../errors";
import { addressBlock } from "../net/address-block";
import type { Challenges } from "./challenges";

const WINDOW_MS = 60_000;
/** Addresses and accounts counted per window; more are let through uncounted, not refused. */
const MAX_COUNTED = 100_000;

/**
 * Asks a proof of work of a client that sends claims faster than a person does: past
 * `perMinute` attempts in a minute from one address (an IPv6 /64) or one account, an attempt
 * is heard only with the answer to a puzzle (`claims.challenge`), and each answer buys one more
 * `perMinute`. A shopper, who claims a few times a minute, never meets it; a venue's crowd
 * behind one address has its app solve a puzzle now and then (about a second in a browser).
 *
 * Below the threshold an attempt costs two map updates and no await. Counted per process, in
 * fixed one-minute windows, so behind N processes a client gets up to N times the threshold.
 */
export class BotCheck {
  private addresses = new Map<string, number>();
  private accounts = new Map<string, number>();
  private windowEndsAt = 0;

  constructor(
    private readonly perMinute: number | null,
    readonly challenges: Challenges,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts one claim attempt. Undefined (at once) when it may be heard; otherwise a promise
   * that settles once its `proof` is checked, rejecting with CHALLENGE_REQUIRED (429).
   */
  admit(address: string | undefined, accountId: string, proof?: string): Promise<void> | undefined {
    const limit = this.perMinute;
    if (limit === null) return undefined;
    const now = this.now();
    if (now >= this.windowEndsAt) this.startWindow(now);
    const byAccount = count(this.accounts, accountId);
    const block = address ? addressBlock(address) : undefined;
    const byAddress = block === undefined ? 0 : count(this.addresses, block);
    if (byAccount <= limit && byAddress <= limit) return undefined;
    return this.redeem(accountId, block, proof, now);
  }

  private async redeem(
    accountId: string,
    block: string | undefined,
    proof: string | undefined,
    now: number,
  ) {
    if (!(await this.challenges.accepts(accountId, proof, now))) {
      throw new DomainError(
        "CHALLENGE_REQUIRED",
        proof
          ? "That puzzle answer was not accepted: ask for a new puzzle and try again."
          : "Many claims came from here this minute: solve a short puzzle (claims.challenge) and send its answer as proof.",
      );
    }
    this.accounts.set(accountId, 0);
    if (block !== undefined) this.addresses.set(block, 0);
  }

  private startWindow(now: number) {
    this.addresses = new Map();
    this.accounts = new Map();
    this.windowEndsAt = now + WINDOW_MS;
  }
}

/** The key's count this window, after this one; 0 for a key past the map's bound. */
function count(counts: Map<string, number>, key: string): number {
  const seen = counts.get(key);
  if (seen === undefined && counts.size >= MAX_COUNTED) return 0;
  const next = (seen ?? 0) + 1;
  counts.set(key, next);
  return next;
}

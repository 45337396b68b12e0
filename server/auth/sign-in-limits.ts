import "server-only";
import { createHash } from "node:crypto";
import { DomainError } from "../errors";
import type { RateLimiter } from "../rate-limit/rate-limiter";

const WINDOW_MS = 15 * 60_000;
/** Attempts from one address, right or wrong: a flood cap, so one address cannot fill the hash queue. */
export const SIGN_IN_ATTEMPTS_PER_ADDRESS = { limit: 30, windowMs: 60_000 };
/** Wrong passwords from one address, over every account: someone guessing. */
export const FAILURES_PER_ADDRESS = { limit: 100, windowMs: WINDOW_MS };
/** Wrong passwords for one account from one address. */
export const FAILURES_PER_ACCOUNT_AND_ADDRESS = { limit: 5, windowMs: WINDOW_MS };
/** Wrong passwords for one account from anywhere, past which the account is under attack... */
export const ACCOUNT_UNDER_ATTACK = { failures: 20, windowMs: WINDOW_MS };
/** ...and addresses that have failed on it share this many attempts a minute between them. */
export const ATTACKED_ACCOUNT_BUDGET = { limit: 3, windowMs: 60_000 };

/**
 * Sign-in limits that slow a guesser without locking the account's owner out. What counts is
 * wrong passwords, per (account, address) and per address; an account's own count only decides
 * when the addresses that failed on it must share a small budget. An address with no failure
 * on the account is never slowed by it, so the owner's right password gets in mid-attack.
 * Counting attempts per email, as before, let ten requests from anywhere lock anyone out.
 * Unknown emails are counted like known ones: the answers do not tell which accounts exist.
 * Keys hold digests, so a long email or address makes no longer key.
 */
export class SignInLimits {
  constructor(private readonly limiter: RateLimiter) {}

  /** Refuses (RATE_LIMITED) an attempt the limits do not allow; counts it as an attempt. */
  async check(email: string, address: string) {
    const keys = keysOf(email, address);
    await this.enforce(keys.attempts, SIGN_IN_ATTEMPTS_PER_ADDRESS, TOO_MANY_FROM_ADDRESS);
    const [fromAddress, pair, account] = await Promise.all([
      this.limiter.peek(keys.addressFailures),
      this.limiter.peek(keys.pairFailures),
      this.limiter.peek(keys.accountFailures),
    ]);
    if (fromAddress.count >= FAILURES_PER_ADDRESS.limit) {
      throw limited(TOO_MANY_FROM_ADDRESS, fromAddress.retryAfterMs);
    }
    if (pair.count >= FAILURES_PER_ACCOUNT_AND_ADDRESS.limit) {
      throw limited(TOO_MANY_FOR_ACCOUNT, pair.retryAfterMs);
    }
    if (account.count >= ACCOUNT_UNDER_ATTACK.failures && pair.count > 0) {
      await this.enforce(keys.attackedBudget, ATTACKED_ACCOUNT_BUDGET, TOO_MANY_FOR_ACCOUNT);
    }
  }

  async failed(email: string, address: string) {
    const keys = keysOf(email, address);
    await Promise.all([
      this.limiter.hit(keys.addressFailures, FAILURES_PER_ADDRESS.limit, WINDOW_MS),
      this.limiter.hit(keys.pairFailures, FAILURES_PER_ACCOUNT_AND_ADDRESS.limit, WINDOW_MS),
      this.limiter.hit(keys.accountFailures, ACCOUNT_UNDER_ATTACK.failures, WINDOW_MS),
    ]);
  }

  /** The owner got it right: their own typos from this address are forgotten. */
  async succeeded(email: string, address: string) {
    await this.limiter.reset(keysOf(email, address).pairFailures);
  }

  private async enforce(key: string, rule: { limit: number; windowMs: number }, message: string) {
    const decision = await this.limiter.hit(key, rule.limit, rule.windowMs);
    if (!decision.allowed) throw limited(message, decision.retryAfterMs);
  }
}

const TOO_MANY_FROM_ADDRESS =
  "Too many sign-in attempts from your network; wait a moment and try again.";
const TOO_MANY_FOR_ACCOUNT =
  "Too many wrong passwords for this account; wait a few minutes, or sign in from another network.";

const limited = (message: string, retryAfterMs: number) =>
  new DomainError("RATE_LIMITED", message, { retryAfterMs });

const digest = (value: string) =>
  createHash("sha256").update(value).digest("base64url").slice(0, 22);

function keysOf(email: string, address: string) {
  const account = digest(email);
  const from = digest(address);
  return {
    attempts: `signin:ip:${from}`,
    addressFailures: `signin:fail:ip:${from}`,
    pairFailures: `signin:fail:pair:${account}:${from}`,
    accountFailures: `signin:fail:account:${account}`,
    attackedBudget: `signin:attacked:${account}`,
  };
}

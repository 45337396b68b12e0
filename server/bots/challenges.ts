import "server-only";
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import type { Challenge } from "@/lib/bots/proof-of-work";
import type { RedisClient } from "../redis/client";

/** Long enough to solve on a slow phone, short enough that a stock of answers goes stale. */
const CHALLENGE_TTL_MS = 5 * 60_000;
/** An answer is a few dozen characters of JSON; anything much longer is not one. */
const MAX_PROOF_LENGTH = 512;

const solutionSchema = z.object({
  salt: z.string().max(100),
  number: z.number().int().min(0),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Remembers answers already used, until their puzzle expires: each buys one allowance. */
export interface UsedAnswers {
  /** True the first time `key` is seen within `ttlMs`. */
  firstUse(key: string, ttlMs: number): Promise<boolean>;
}

/** Shared by every instance, so an answer spent on one is spent on all. */
export class RedisUsedAnswers implements UsedAnswers {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async firstUse(key: string, ttlMs: number) {
    return (await this.redis.set(`${this.prefix}pow:${key}`, "1", "PX", ttlMs, "NX")) === "OK";
  }
}

/** Embedded mode's single process. Bounded: past `max` the oldest answers are forgotten. */
export class MemoryUsedAnswers implements UsedAnswers {
  private readonly used = new LRUCache<string, true>({ max: 100_000 });

  async firstUse(key: string, ttlMs: number) {
    if (this.used.has(key)) return false;
    this.used.set(key, true, { ttl: ttlMs });
    return true;
  }
}

/**
 * Makes and checks proof-of-work puzzles (lib/bots/proof-of-work.ts). A puzzle is signed
 * for the account it is given to and carries its expiry in its salt, so checking an answer
 * needs no stored puzzle: one hash, one HMAC, and a note that the answer is now used.
 */
export class Challenges {
  constructor(
    private readonly secret: Buffer,
    private readonly maxNumber: number,
    private readonly used: UsedAnswers,
  ) {}

  issue(accountId: string, now = Date.now()): Challenge {
    const salt = `${randomBytes(12).toString("hex")}.${now + CHALLENGE_TTL_MS}`;
    const challenge = sha256Hex(`${salt}${randomInt(0, this.maxNumber + 1)}`);
    return {
      algorithm: "SHA-256",
      salt,
      challenge,
      maxNumber: this.maxNumber,
      signature: this.sign(salt, challenge, accountId),
    };
  }

  /** Whether `proof` answers an unexpired puzzle given to this account, not answered before. */
  async accepts(accountId: string, proof: string | undefined, now = Date.now()): Promise<boolean> {
    if (!proof || proof.length > MAX_PROOF_LENGTH) return false;
    const parsed = solutionSchema.safeParse(decodeJson(proof));
    if (!parsed.success) return false;
    const { salt, number, signature } = parsed.data;
    const expiresAt = Number(salt.slice(salt.lastIndexOf(".") + 1));
    if (!(expiresAt > now) || number > this.maxNumber) return false;
    const expected = Buffer.from(this.sign(salt, sha256Hex(`${salt}${number}`), accountId), "hex");
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return false;
    return this.used.firstUse(signature, expiresAt - now);
  }

  private sign(salt: string, challenge: string, accountId: string): string {
    return createHmac("sha256", this.secret)
      .update(`${salt}|${challenge}|${accountId}`)
      .digest("hex");
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function decodeJson(base64url: string): unknown {
  try {
    return JSON.parse(Buffer.from(base64url, "base64url").toString("utf8"));
  } catch {
    return null;
  }
}

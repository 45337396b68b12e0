import { scrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { withTestServices } from "@/testing/test-services";
import { AuthService } from "../auth/auth-service";
import { type Derive, PasswordHasher } from "../auth/password";
import {
  ACCOUNT_UNDER_ATTACK,
  ATTACKED_ACCOUNT_BUDGET,
  FAILURES_PER_ACCOUNT_AND_ADDRESS,
} from "../auth/sign-in-limits";
import { MemoryRateLimiter, type RateLimiter, RedisRateLimiter } from "../rate-limit/rate-limiter";

/**
 * The limits are what is under test, not scrypt: the same AuthService, with a cheap key
 * derivation so that a few hundred wrong passwords take seconds, not minutes.
 */
const cheapDerive: Derive = (password, salt) =>
  new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: 1024, r: 8, p: 1 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
const hasher = new PasswordHasher({ inFlight: 4, waiting: 10_000 }, cheapDerive);
const PASSWORD = "the owner's own password";

const world = withTestServices({ redis: true });
let addresses = 0;
/** An address nobody has used yet. */
const freshAddress = () => {
  addresses++;
  return `2001:db8::${addresses.toString(16)}`;
};

async function account(auth: AuthService) {
  const email = `owner-${newId().toLowerCase()}@example.test`;
  await world.database.db.insert(users).values({
    id: newId(),
    email,
    displayName: "Owner",
    passwordHash: await hasher.hash(PASSWORD),
    role: "shopper",
  });
  const attempt = (address: string, password = "a wrong guess") =>
    auth.signIn({ email, password }, address).then(
      () => "SIGNED_IN",
      (error: { code?: string }) => error.code ?? String(error),
    );
  return { email, attempt };
}

const limiters: [string, () => RateLimiter][] = [
  ["Redis", () => new RedisRateLimiter(world.services.redis as never, world.redis?.prefix ?? "")],
  ["in memory", () => new MemoryRateLimiter()],
];

describe.each(limiters)("issue 14 item 6: nobody can lock an account (%s limits)", (_, limiter) => {
  it("lets the owner in from an address with no failures while others guess wrong", async () => {
    const auth = new AuthService(world.database.db, limiter(), hasher);
    const { attempt } = await account(auth);
    // 60 guesses from 30 addresses: the old per-email limit shut the account after 10.
    const outcomes = [];
    for (let i = 0; i < 30; i++) {
      const address = freshAddress();
      outcomes.push(await attempt(address), await attempt(address));
    }
    expect(new Set(outcomes)).toEqual(new Set(["INVALID_CREDENTIALS", "RATE_LIMITED"]));
    expect(await attempt(freshAddress(), PASSWORD)).toBe("SIGNED_IN");
    expect(await attempt(freshAddress(), PASSWORD)).toBe("SIGNED_IN");
  });

  it("slows one address on one account, not that address elsewhere nor the account elsewhere", async () => {
    const auth = new AuthService(world.database.db, limiter(), hasher);
    const victim = await account(auth);
    const other = await account(auth);
    const guesser = freshAddress();
    for (let i = 0; i < FAILURES_PER_ACCOUNT_AND_ADDRESS.limit; i++) {
      expect(await victim.attempt(guesser)).toBe("INVALID_CREDENTIALS");
    }
    // Refused before the password is checked: even the right one waits.
    expect(await victim.attempt(guesser)).toBe("RATE_LIMITED");
    expect(await victim.attempt(guesser, PASSWORD)).toBe("RATE_LIMITED");
    expect(await other.attempt(guesser, PASSWORD)).toBe("SIGNED_IN");
    expect(await victim.attempt(freshAddress(), PASSWORD)).toBe("SIGNED_IN");
  });

  it("makes addresses that failed on an account under attack share a small budget", async () => {
    const auth = new AuthService(world.database.db, limiter(), hasher);
    const { attempt } = await account(auth);
    const failed: string[] = [];
    for (let i = 0; i < ACCOUNT_UNDER_ATTACK.failures; i++) {
      const address = freshAddress();
      failed.push(address);
      expect(await attempt(address)).toBe("INVALID_CREDENTIALS");
    }
    const outcomes = [];
    for (const address of failed) outcomes.push(await attempt(address));
    expect(outcomes.filter((outcome) => outcome === "INVALID_CREDENTIALS")).toHaveLength(
      ATTACKED_ACCOUNT_BUDGET.limit,
    );
    expect(outcomes.filter((outcome) => outcome === "RATE_LIMITED")).toHaveLength(
      failed.length - ATTACKED_ACCOUNT_BUDGET.limit,
    );
    expect(await attempt(freshAddress(), PASSWORD)).toBe("SIGNED_IN");
  });

  it("counts unknown emails as it counts known ones", async () => {
    const auth = new AuthService(world.database.db, limiter(), hasher);
    const guesser = freshAddress();
    const email = `nobody-${newId().toLowerCase()}@example.test`;
    const outcomes = [];
    for (let i = 0; i <= FAILURES_PER_ACCOUNT_AND_ADDRESS.limit; i++) {
      outcomes.push(
        await auth.signIn({ email, password: "a guess" }, guesser).catch((e) => e.code),
      );
    }
    expect(outcomes.at(-2)).toBe("INVALID_CREDENTIALS");
    expect(outcomes.at(-1)).toBe("RATE_LIMITED");
  });
});

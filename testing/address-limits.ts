import type { Redis } from "ioredis";
import { expect } from "vitest";
import { newId } from "@/lib/ids";
import { gateKeys } from "@/server/claims/gate-keys";
import { sendFrom } from "./loopback-client";

/**
 * Probes of the per-address limits as a client sees them over HTTP: the sign-up limit (10 an
 * hour per address, in Redis, shared by every app server) and the claim gate's per-address
 * attempt counters. Used by the edge's own tests and by the front-door (nginx) test.
 */
export const SIGN_UPS_PER_ADDRESS = 10;
export const LIMITED_ON_THE_ELEVENTH = [...Array(SIGN_UPS_PER_ADDRESS).fill(200), 429];

/** A header naming a made-up client, a different one for each `n`. */
export const spoofed = (n: number) => ({ "x-forwarded-for": `203.0.${n >> 8}.${n & 255}` });

/** One sign-up (tRPC `auth.signUp`) from the loopback address `from`: its HTTP status. */
export async function signUp(baseUrl: string, from: string, headers: Record<string, string> = {}) {
  const input = { email: `${newId().toLowerCase()}@edge.test`, password: "long enough pw" };
  const answer = await sendFrom(from, `${baseUrl}/api/trpc/auth.signUp`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ json: { ...input, displayName: "Edge" } }),
  });
  return answer.status;
}

/** Sign-ups from `from` until one is refused; each with the headers `headersOf(i)` gives. */
export async function signUpsUntilLimited(
  baseUrl: string,
  from: string,
  headersOf: (i: number) => Record<string, string>,
) {
  const statuses: number[] = [];
  for (let i = 0; i <= SIGN_UPS_PER_ADDRESS; i++) {
    statuses.push(await signUp(baseUrl, from, headersOf(i)));
  }
  return statuses;
}

/** The claim gate's per-address attempt counters for one deal. */
export function gateAddressCounters(redis: Redis, prefix: string, dealId: string) {
  const list = async () => (await redis.keys(`${prefix}{deal:${dealId}}:rl:ip:*`)).sort();
  const counterOf = (address: string) => gateKeys(prefix, dealId).addressAttempts(address);
  return {
    list,
    counterOf,
    /**
     * Runs `claims` and checks that every attempt was counted under the counters of
     * `addresses` and no other: no counter appeared that was not there before. (Older
     * counters may expire meanwhile: a window is 10 s.)
     */
    async expectCountedUnder(addresses: string[], claims: () => Promise<void>) {
      const before = await list();
      await claims();
      const after = await list();
      const expected = addresses.map(counterOf);
      for (const counter of expected) expect(after).toContain(counter);
      expect(after.filter((key) => !before.includes(key) && !expected.includes(key))).toEqual([]);
    },
  };
}

import superjson from "superjson";
import { describe, expect, it, vi } from "vitest";
import { testCaller } from "@/testing/test-caller";
import { withTestServices } from "@/testing/test-services";
import { handleTrpcRequest } from "../api/http-handler";
import { AuthService } from "../auth/auth-service";
import { type Derive, PasswordHasher } from "../auth/password";
import { MemoryRateLimiter } from "../rate-limit/rate-limiter";

interface TrpcErrorBody {
  error: { json: { data: { code: string; retryAfterMs?: number } } };
}

/** A derive that holds every hash until the test lets it go, and counts how many run at once. */
function heldDerive() {
  const held: (() => void)[] = [];
  const state = { running: 0, most: 0, started: 0 };
  const derive: Derive = async () => {
    state.started++;
    state.running++;
    state.most = Math.max(state.most, state.running);
    await new Promise<void>((release) => held.push(release));
    state.running--;
    return Buffer.alloc(32);
  };
  const releaseAll = async () => {
    while (held.length > 0 || state.running > 0) {
      held.splice(0).forEach((release) => void release());
      await new Promise((tick) => setImmediate(tick));
    }
  };
  return { derive, state, releaseAll };
}

describe("issue 14 item 3: passwords are hashed through a bounded queue", () => {
  it("runs at most inFlight hashes, queues `waiting` more, and refuses the rest at once", async () => {
    const { derive, state, releaseAll } = heldDerive();
    const hasher = new PasswordHasher({ inFlight: 2, waiting: 3 }, derive);
    const accepted = Array.from({ length: 5 }, () => hasher.hash("a long password"));
    await new Promise((tick) => setImmediate(tick));
    expect(state).toMatchObject({ running: 2, started: 2 });
    const refused = await Promise.allSettled(
      Array.from({ length: 4 }, () =>
        hasher.verify("a long password", "scrypt$16$8$1$c2FsdA$aGFzaA"),
      ),
    );
    for (const outcome of refused) {
      expect(outcome).toMatchObject({
        status: "rejected",
        reason: { code: "RATE_LIMITED", details: { retryAfterMs: expect.any(Number) } },
      });
    }
    expect(state.started).toBe(2);
    await releaseAll();
    expect(await Promise.all(accepted)).toHaveLength(5);
    expect(state).toMatchObject({ most: 2, started: 5 });
  });
});

describe("a flood of sign-ins gets 429 with a retry delay, not a stalled server", () => {
  const world = withTestServices();

  it("answers TOO_MANY_REQUESTS with retryAfterMs while the hash queue is full", async () => {
    const { derive, releaseAll } = heldDerive();
    const hasher = new PasswordHasher({ inFlight: 1, waiting: 1 }, derive);
    const auth = new AuthService(world.database.db, new MemoryRateLimiter(), hasher);
    const flooded = { ...world.services, auth };
    const signIn = (i: number) =>
      handleTrpcRequest(
        flooded,
        new Request("http://127.0.0.1/api/trpc/auth.signIn", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(
            superjson.serialize({ email: `flood${i}@example.test`, password: "wrong one" }),
          ),
        }),
        testCaller(`192.0.2.${i}`),
      );
    // One hashes and one waits, whatever order they reach the queue in; the other four are
    // answered while those two are still held.
    let answered = 0;
    const answers = Array.from({ length: 6 }, (_, i) =>
      signIn(i + 1).then(async (response) => {
        answered++;
        return { status: response.status, body: (await response.json()) as TrpcErrorBody };
      }),
    );
    await vi.waitFor(() => expect(answered).toBe(4), { timeout: 30_000 });
    await releaseAll();
    const all = await Promise.all(answers);
    const refused = all.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(4);
    for (const { body } of refused) {
      expect(body.error.json.data).toMatchObject({ code: "TOO_MANY_REQUESTS" });
      expect(body.error.json.data.retryAfterMs).toBeGreaterThan(0);
    }
    expect(all.filter((answer) => answer.status === 401)).toHaveLength(2);
  });
});

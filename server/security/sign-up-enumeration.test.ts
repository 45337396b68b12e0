import { scrypt } from "node:crypto";
import { eq } from "drizzle-orm";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { countQueries } from "@/testing/query-count";
import { testCaller } from "@/testing/test-caller";
import { withTestServices } from "@/testing/test-services";
import { handleTrpcRequest } from "../api/http-handler";
import { AuthService } from "../auth/auth-service";
import { type Derive, PasswordHasher } from "../auth/password";
import { MemoryRateLimiter } from "../rate-limit/rate-limiter";

const world = withTestServices();

/** Counts key derivations, so both answers can be shown to cost the same scrypt work. */
let derivations = 0;
const countingDerive: Derive = (password, salt) => {
  derivations++;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: 1024, r: 8, p: 1 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
};

function signUp(auth: AuthService, input: object, address: string) {
  const services = { ...world.services, auth };
  return handleTrpcRequest(
    services,
    new Request("http://127.0.0.1/api/trpc/auth.signUp", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(superjson.serialize(input)),
    }),
    testCaller(address),
  );
}

/** What a caller can see of an answer, less the request id every answer has its own of. */
async function visible(response: Response) {
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => name !== "x-request-id"),
  );
  return { status: response.status, headers, body: await response.text() };
}

describe("issue 14 item 10: sign-up does not tell whether an email has an account", () => {
  it("answers a taken email as it answers a new one, after the same work, and changes nothing", async () => {
    const auth = new AuthService(
      world.database.db,
      new MemoryRateLimiter(),
      new PasswordHasher({ inFlight: 2, waiting: 10 }, countingDerive),
    );
    const taken = `taken-${newId().toLowerCase()}@example.test`;
    const fresh = `fresh-${newId().toLowerCase()}@example.test`;
    await signUp(
      auth,
      { email: taken, password: "the first password", displayName: "First" },
      "192.0.2.1",
    );
    const [before] = await world.database.db.select().from(users).where(eq(users.email, taken));

    // The same second person, once with the taken email and once with a new one.
    const probe = async (email: string, address: string) => {
      derivations = 0;
      const second = { email, password: "someone else's password", displayName: "Second" };
      const answer = await countQueries(async () => visible(await signUp(auth, second, address)));
      return { ...answer, derivations };
    };
    const again = await probe(taken, "192.0.2.2");
    const first = await probe(fresh, "192.0.2.3");
    expect(again.result.status).toBe(200);
    expect(again.result.headers["set-cookie"]).toBeUndefined();
    // The email is the caller's own input; the rest of the answer is the same byte for byte.
    expect(again.result.body.replace(taken, "EMAIL")).toBe(
      first.result.body.replace(fresh, "EMAIL"),
    );
    expect(again.result.headers).toEqual(first.result.headers);
    expect(again.result.status).toBe(first.result.status);
    expect(again.derivations).toBe(first.derivations);
    expect(again.queries).toBe(first.queries);
    expect(first.queries).toBeGreaterThan(0); // the counter sees the services' database
    const [after] = await world.database.db.select().from(users).where(eq(users.email, taken));
    expect(after).toEqual(before);
  });
});

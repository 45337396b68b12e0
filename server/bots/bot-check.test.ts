import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import superjson from "superjson";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Challenge, encodeSolution, solveChallenge } from "@/lib/bots/proof-of-work";
import { postClaim, postClaimAnsweringChallenge } from "@/lib/claims/claim-client";
import { newId } from "@/lib/ids";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { fingerprintState } from "@/testing/state-fingerprint";
import { testCaller } from "@/testing/test-caller";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { handleTrpcRequest } from "../api/http-handler";
import { parseEnv } from "../env";
import { createNodeClaimRoute } from "../http/claim-route";
import { BotCheck } from "./bot-check";
import { Challenges, MemoryUsedAnswers } from "./challenges";

const SECRET = Buffer.from("bot-check test secret, 32 bytes!");
const COST = 1_000;

/** A check on a clock the test moves, and the puzzles it asks. */
function checkAt(perMinute: number) {
  let now = Date.parse("2026-12-01T12:00:00Z");
  const challenges = new Challenges(SECRET, COST, new MemoryUsedAnswers());
  const check = new BotCheck(perMinute, challenges, () => now);
  return {
    check,
    challenges,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

/** Every attempt in turn; the refusal, or "heard". */
async function outcomes(admissions: (Promise<void> | undefined)[]) {
  return Promise.all(
    admissions.map((admission) =>
      admission === undefined
        ? "heard"
        : admission.then(
            () => "heard after a proof",
            (error: { code?: string }) => error.code ?? "error",
          ),
    ),
  );
}

describe("the bot check", () => {
  it("hears a person's attempts at once, with no await", () => {
    const { check } = checkAt(100);
    for (let i = 0; i < 100; i++) expect(check.admit("192.0.2.1", "shopper-1")).toBeUndefined();
  });

  it("asks a proof past the threshold of one account, and an answer buys one more allowance", async () => {
    const { check, challenges, now } = checkAt(100);
    const attempts = Array.from({ length: 101 }, () => check.admit(undefined, "bot"));
    expect((await outcomes(attempts)).slice(99)).toEqual(["heard", "CHALLENGE_REQUIRED"]);

    const proof = await solveChallenge(challenges.issue("bot", now()));
    expect(proof).not.toBeNull();
    await expect(check.admit(undefined, "bot", proof ?? "")).resolves.toBeUndefined();
    const allowance = Array.from({ length: 101 }, () => check.admit(undefined, "bot"));
    expect((await outcomes(allowance)).slice(99)).toEqual(["heard", "CHALLENGE_REQUIRED"]);
    // An answer is spent once.
    await expect(check.admit(undefined, "bot", proof ?? "")).rejects.toMatchObject({
      code: "CHALLENGE_REQUIRED",
      message: expect.stringMatching(/not accepted/),
    });
  });

  it("counts an address over all its accounts (an IPv6 client per /64)", async () => {
    const { check } = checkAt(100);
    const attempts = Array.from({ length: 101 }, (_, i) =>
      check.admit(`2001:db8:7:7::${i.toString(16)}`, `account-${i}`),
    );
    expect((await outcomes(attempts)).slice(99)).toEqual(["heard", "CHALLENGE_REQUIRED"]);
    expect(check.admit("2001:db8:7:8::1", "account-x")).toBeUndefined();
  });

  it("starts every minute afresh", async () => {
    const { check, advance } = checkAt(3);
    for (let i = 0; i < 3; i++) check.admit(undefined, "a");
    const challenged = check.admit(undefined, "a");
    expect(challenged).toBeInstanceOf(Promise);
    await expect(challenged).rejects.toMatchObject({ code: "CHALLENGE_REQUIRED" });
    advance(60_000);
    expect(check.admit(undefined, "a")).toBeUndefined();
  });

  it("refuses an answer for another account, an expired one, a forged one and garbage", async () => {
    const { check, challenges, now, advance } = checkAt(1);
    check.admit(undefined, "bot");
    const refusedWith = async (proof: string) =>
      check.admit(undefined, "bot", proof)?.then(
        () => "heard",
        (error: { code?: string }) => error.code,
      );
    const theirs = await solveChallenge(challenges.issue("someone-else", now()));
    expect(await refusedWith(theirs ?? "")).toBe("CHALLENGE_REQUIRED");

    const puzzle = challenges.issue("bot", now());
    const answer = (await solveChallenge(puzzle)) ?? "";
    const decoded = JSON.parse(Buffer.from(answer, "base64url").toString()) as {
      salt: string;
      number: number;
      signature: string;
    };
    const later = `${decoded.salt.split(".")[0]}.${now() + 3_600_000}`;
    expect(await refusedWith(encodeSolution({ ...decoded, salt: later }))).toBe(
      "CHALLENGE_REQUIRED",
    );
    expect(await refusedWith(encodeSolution({ ...decoded, number: decoded.number + 1 }))).toBe(
      "CHALLENGE_REQUIRED",
    );
    for (const garbage of ["", "x", "%%%", "e30", "a".repeat(513)]) {
      expect(await refusedWith(garbage)).toBe("CHALLENGE_REQUIRED");
    }
    advance(5 * 60_000 + 1);
    check.admit(undefined, "bot"); // the new minute's allowance of one
    expect(await refusedWith(answer)).toBe("CHALLENGE_REQUIRED");
  });
});

describe("the claim path asks the proof before a claim is heard", () => {
  let database: TestDatabase;
  /** Each test's own app, so its counts start at zero: every test claims from 127.0.0.1. */
  let services: Services;
  let baseUrl: string;
  const prefix = `test:${newId()}:`;
  const opened: { services: Services; server: Server }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  beforeEach(async () => {
    services = await createServices(
      parseEnv({
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        DEMO_SEED: "off",
        BOT_CHALLENGE_PER_MINUTE: "5",
        BOT_CHALLENGE_COST: String(COST),
      }),
    );
    const route = createNodeClaimRoute(services, undefined);
    // One client: the loopback peer, as the edge would find it with no proxy trusted.
    const server = createServer((req, res) => void route(req, res, "127.0.0.1"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    opened.push({ services, server });
  });
  afterAll(async () => {
    for (const { services, server } of opened) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      const keys = await services.redis?.keys(`${prefix}*`);
      if (keys?.length) await services.redis?.del(...keys);
      await services.stop();
    }
    await database?.drop();
  });

  /** A puzzle from `claims.challenge`, as the shopper's app asks for one. */
  async function challengeFor(cookie: string): Promise<Challenge> {
    const response = await handleTrpcRequest(
      services,
      new Request("http://127.0.0.1/api/trpc/claims.challenge", { headers: { cookie } }),
      testCaller("127.0.0.1"),
    );
    return superjson.deserialize<Challenge>(
      ((await response.json()) as { result: { data: never } }).result.data,
    );
  }

  it("the shopper's app answers the puzzle by itself: past the threshold its claim is heard", async () => {
    const { id: merchantId } = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchantId, { quantity: 1, now: new Date() });
    const [shopper = ""] = await createShoppers(database.db, 1);
    const token = await services.sessions.issue({
      userId: shopper,
      role: "shopper",
      displayName: "S",
    });
    const cookie = `dd_session=${token}`;
    const answers = [];
    for (let i = 0; i < 7; i++) {
      answers.push(
        await postClaimAnsweringChallenge(
          { dealId: deal.id, idempotencyKey: newId() },
          () => challengeFor(cookie),
          { baseUrl, headers: { cookie } },
        ),
      );
    }
    expect(answers.map((answer) => answer.outcome)).toEqual([
      "WON",
      ...Array.from({ length: 6 }, () => "ALREADY_CLAIMED"),
    ]);
  });

  it("a client past 5 attempts a minute is refused (429, typed) with nothing written, then heard with an answer", async () => {
    const { id: merchantId } = await createMerchant(database.db);
    const deal = await createDeal(database.db, merchantId, { quantity: 1, now: new Date() });
    const [winner = "", bot = ""] = await createShoppers(database.db, 2);
    const cookieOf = async (userId: string) =>
      `dd_session=${await services.sessions.issue({ userId, role: "shopper", displayName: "S" })}`;
    const botCookie = await cookieOf(bot);
    const claim = (proof?: string) =>
      postClaim(
        { dealId: deal.id, idempotencyKey: newId(), proof },
        { baseUrl, headers: { cookie: botCookie } },
      ).catch((error: unknown) => error);
    await services.claims.claim(winner, { dealId: deal.id, idempotencyKey: newId() });
    for (let i = 0; i < 5; i++) expect(await claim()).toMatchObject({ outcome: "SOLD_OUT" });

    const before = await fingerprintState(database.db, services.redis, prefix);
    const refused = await claim();
    expect(refused).toBeInstanceOf(ApiRequestError);
    expect(refused).toMatchObject({
      status: 429,
      error: { code: "TOO_MANY_REQUESTS", domainCode: "CHALLENGE_REQUIRED" },
    });
    expect(await fingerprintState(database.db, services.redis, prefix)).toEqual(before);

    // The puzzle comes from tRPC (claims.challenge), signed for this account.
    const proof = await solveChallenge(await challengeFor(botCookie));
    expect(await claim(proof ?? undefined)).toMatchObject({ outcome: "SOLD_OUT" });
    // The answer bought 5 more; past them, it is spent.
    for (let i = 0; i < 5; i++) expect(await claim()).toMatchObject({ outcome: "SOLD_OUT" });
    expect(await claim(proof ?? undefined)).toMatchObject({
      status: 429,
      error: { message: expect.stringMatching(/not accepted/) },
    });
  });
});

import { count, eq } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claims, deals, users } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { newId } from "@/lib/ids";
import { countingLogger, countQueries } from "@/testing/query-count";
import { testCaller } from "@/testing/test-caller";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";
import { handleTrpcRequest } from "./http-handler";
import { appRouter } from "./root";

let database: TestDatabase;
let services: Services;
const prefix = `test:${newId()}:`;

beforeAll(async () => {
  database = await createTestDatabase();
  services = await createServices(
    parseEnv({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      DEMO_SEED: "on",
    }),
    { queryLogger: countingLogger },
  );
});
afterAll(async () => {
  const keys = await services.redis?.keys(`${prefix}*`);
  if (keys?.length) await services.redis?.del(...keys);
  await services?.stop();
  await database?.drop();
});

const QUERIES = new Set([
  "auth.me",
  "claims.mine",
  "deals.list",
  "merchant.myDeals",
  "admin.gateStatus",
  "admin.signingKeys",
  "vouchers.mine",
  "merchant.revocations",
  "merchant.devices",
  "merchant.redemptions",
  "admin.devices",
  "admin.redemptions",
  "admin.merchants",
  "admin.merchant",
  "admin.auditLog",
  "admin.accounts",
  "merchant.auditLog",
  "merchant.shop",
  "sales.list",
  "sales.get",
  "sales.snapshot",
  "sales.history",
  "auth.invite",
]);

/** Calls the API over the real tRPC fetch handler, as the browser does. */
async function call(path: string, input: unknown, options: { cookie?: string; ip?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.cookie) headers.cookie = options.cookie;
  const payload = JSON.stringify(superjson.serialize(input));
  const isQuery = QUERIES.has(path);
  const url = `http://127.0.0.1/api/trpc/${path}${isQuery ? `?input=${encodeURIComponent(payload)}` : ""}`;
  const response = await handleTrpcRequest(
    services,
    new Request(url, {
      method: isQuery ? "GET" : "POST",
      headers,
      body: isQuery ? undefined : payload,
    }),
    testCaller(options.ip ?? "203.0.113.7"),
  );
  const body = (await response.json()) as {
    result?: { data: { json: unknown } };
    error?: { json: { message: string; data: { code: string } } };
  };
  const setCookie = response.headers.get("set-cookie") ?? "";
  return {
    status: response.status,
    data: body.result?.data.json as Record<string, unknown> | null | undefined,
    error: body.error?.json,
    cookie: setCookie.split(";")[0] ?? "",
    setCookie,
  };
}

async function signIn(email: string, ip?: string) {
  const answer = await call("auth.signIn", { email, password: DEMO_ACCOUNTS.password }, { ip });
  expect(answer.status).toBe(200);
  return answer.cookie;
}

/** A shopper signed up and then signed in (sign-up itself starts no session). */
async function newShopper(ip: string) {
  const email = `new-${newId().toLowerCase()}@example.test`;
  const password = "long enough pw";
  await call("auth.signUp", { email, password, displayName: "New" }, { ip });
  const answer = await call("auth.signIn", { email, password }, { ip });
  expect(answer.status).toBe(200);
  return answer.cookie;
}

async function liveDealId() {
  const [deal] = await database.db
    .select()
    .from(deals)
    .where(eq(deals.title, "Free croissant, fresh from the oven"));
  return deal?.id ?? "";
}

describe("start-up", () => {
  it("seeds the demo city once: admin, two merchants' staff, three shoppers, four deals", async () => {
    const all = await database.db.select().from(deals);
    expect(all).toHaveLength(4);
    expect(all.filter((d) => d.priceCents > 0)).toHaveLength(1);
    expect(all.filter((d) => d.sold === d.quantity)).toHaveLength(1);
    const again = await createServices(
      parseEnv({
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        DEMO_SEED: "on",
      }),
    );
    expect(again.demoSeeded).toBe(false);
    await again.stop();
  });
});

describe("accounts", () => {
  it("signs up, signs in, keeps the session in an HttpOnly cookie, reads it back, and signs out", async () => {
    const email = `new-${newId().toLowerCase()}@example.test`;
    const signUp = await call(
      "auth.signUp",
      { email, password: "long enough pw", displayName: "Nia" },
      { ip: "198.51.100.1" },
    );
    expect(signUp).toMatchObject({ status: 200, data: { email }, setCookie: "" });
    const signIn = await call(
      "auth.signIn",
      { email, password: "long enough pw" },
      { ip: "198.51.100.1" },
    );
    expect(signIn.setCookie).toMatch(/dd_session=.+; Path=\/; HttpOnly; SameSite=Lax/);
    expect((await call("auth.me", undefined, { cookie: signIn.cookie })).data).toMatchObject({
      role: "shopper",
      displayName: "Nia",
    });
    const signOut = await call("auth.signOut", undefined, { cookie: signIn.cookie });
    expect(signOut.setCookie).toMatch(/dd_session=; .*Max-Age=0/);
  });

  it("refuses bad sign-up input and wrong passwords with typed errors", async () => {
    const weak = await call("auth.signUp", {
      email: "not-an-email",
      password: "short",
      displayName: "",
    });
    expect(weak.status).toBe(400);
    expect(weak.error?.data.code).toBe("BAD_REQUEST");
    const wrong = await call("auth.signIn", {
      email: DEMO_ACCOUNTS.admin,
      password: "wrong password",
    });
    expect(wrong.error?.data.code).toBe("UNAUTHORIZED");
    const unknown = await call("auth.signIn", {
      email: "nobody@example.test",
      password: "whatever123",
    });
    expect(unknown.error).toMatchObject({
      message: wrong.error?.message,
      data: { code: "UNAUTHORIZED" },
    });
  });

  it("rate limits wrong passwords per account and address, before any query", async () => {
    const email = DEMO_ACCOUNTS.shoppers[2] ?? "";
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await call(
        "auth.signIn",
        { email, password: "wrong password" },
        { ip: "192.0.2.10" },
      );
      codes.push(answer.error?.data.code ?? "OK");
    }
    expect(codes.slice(0, 5).every((code) => code === "UNAUTHORIZED")).toBe(true);
    expect(codes[5]).toBe("TOO_MANY_REQUESTS");
    const limited = await countQueries(() =>
      call("auth.signIn", { email, password: DEMO_ACCOUNTS.password }, { ip: "192.0.2.10" }),
    );
    expect(limited.result.error?.data.code).toBe("TOO_MANY_REQUESTS");
    expect(limited.queries).toBe(0);
    // Someone else's wrong passwords do not shut the owner out (server/security/).
    const owner = await countQueries(() =>
      call("auth.signIn", { email, password: DEMO_ACCOUNTS.password }),
    );
    expect(owner.result.status).toBe(200);
    // The counter sees these services' database, so the zeros in this file mean something.
    expect(owner.queries).toBeGreaterThan(0);
  });
});

describe("claims over HTTP", () => {
  const claimCount = async () => (await database.db.select({ n: count() }).from(claims))[0]?.n;

  it("answers every bad call with a typed error and changes nothing", async () => {
    const dealId = await liveDealId();
    const shopper = await signIn(DEMO_ACCOUNTS.shoppers[0] ?? "");
    const staff = await signIn(DEMO_ACCOUNTS.merchantStaff[0] ?? "");
    const admin = await signIn(DEMO_ACCOUNTS.admin);
    const before = await claimCount();
    const cases: [string, unknown, string | undefined, number, string][] = [
      ["signed out", { dealId, idempotencyKey: "key-signed-out" }, undefined, 401, "UNAUTHORIZED"],
      ["merchant staff", { dealId, idempotencyKey: "key-staff-1" }, staff, 403, "FORBIDDEN"],
      ["admin", { dealId, idempotencyKey: "key-admin-1" }, admin, 403, "FORBIDDEN"],
      [
        "malformed deal id",
        { dealId: "../etc", idempotencyKey: "key-bad-id" },
        shopper,
        400,
        "BAD_REQUEST",
      ],
      [
        "unknown deal",
        { dealId: newId(), idempotencyKey: "key-unknown" },
        shopper,
        404,
        "NOT_FOUND",
      ],
      ["missing key", { dealId }, shopper, 400, "BAD_REQUEST"],
      ["oversized key", { dealId, idempotencyKey: "k".repeat(65) }, shopper, 400, "BAD_REQUEST"],
      [
        "key with odd characters",
        { dealId, idempotencyKey: "key with spaces" },
        shopper,
        400,
        "BAD_REQUEST",
      ],
      ["no input at all", undefined, shopper, 400, "BAD_REQUEST"],
      [
        "forged cookie",
        { dealId, idempotencyKey: "key-forged-1" },
        "dd_session=eyJhbGciOiJub25lIn0.e30.",
        401,
        "UNAUTHORIZED",
      ],
    ];
    for (const [label, input, cookie, status, code] of cases) {
      const answer = await call("claims.claim", input, { cookie });
      expect({ label, status: answer.status, code: answer.error?.data.code }).toEqual({
        label,
        status,
        code,
      });
    }
    expect(await claimCount()).toBe(before);
  });

  it("claims for a signed-in shopper, replays a retried key, and lists the claim", async () => {
    const dealId = await liveDealId();
    const cookie = await signIn(DEMO_ACCOUNTS.shoppers[1] ?? "");
    const first = await call(
      "claims.claim",
      { dealId, idempotencyKey: "intent-12345" },
      { cookie },
    );
    expect(first.data).toMatchObject({ outcome: "WON", status: "confirmed" });
    const retry = await call(
      "claims.claim",
      { dealId, idempotencyKey: "intent-12345" },
      { cookie },
    );
    expect(retry.data).toMatchObject({
      outcome: "WON",
      claimId: first.data?.claimId,
      replayed: true,
    });
    const mine = await call("claims.mine", undefined, { cookie });
    expect(mine.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ claimId: first.data?.claimId, dealId })]),
    );
  });

  it("authenticates and rejects a losing claim without a single Postgres query", async () => {
    const [soldOut] = await database.db
      .select()
      .from(deals)
      .where(eq(deals.title, "Latte art masterclass seat"));
    const cookie = await signIn(DEMO_ACCOUNTS.shoppers[0] ?? "");
    const body = { dealId: soldOut?.id, idempotencyKey: "too-late-1" };
    await call("claims.claim", body, { cookie }); // loads the gate from Postgres once
    const { result, queries } = await countQueries(() =>
      call(
        "claims.claim",
        { ...body, idempotencyKey: "too-late-2" },
        { cookie: `${cookie}; other=1` },
      ),
    );
    expect(result.data).toEqual({ outcome: "ALREADY_CLAIMED", claimId: expect.any(String) });
    const stranger = { cookie: await newShopper("198.51.100.9") };
    const lost = await countQueries(() =>
      call("claims.claim", { ...body, idempotencyKey: "too-late-3" }, { cookie: stranger.cookie }),
    );
    expect(lost.result.data).toEqual({ outcome: "SOLD_OUT" });
    expect({ alreadyClaimed: queries, soldOut: lost.queries }).toEqual({
      alreadyClaimed: 0,
      soldOut: 0,
    });
  });

  it("limits claim attempts per shopper with a typed error and a retry hint, touching no Postgres", async () => {
    const [soldOut] = await database.db
      .select()
      .from(deals)
      .where(eq(deals.title, "Latte art masterclass seat"));
    const shopper = { cookie: await newShopper("198.51.100.10") };
    const attempt = (n: number) =>
      call(
        "claims.claim",
        { dealId: soldOut?.id, idempotencyKey: `rate-${n}-xxxx` },
        { cookie: shopper.cookie, ip: "198.51.100.10" },
      );
    const answers = [];
    for (let n = 0; n < 20; n++) answers.push((await attempt(n)).status);
    expect(answers.every((status) => status === 200)).toBe(true);
    const { result: limited, queries } = await countQueries(() => attempt(21));
    expect(limited.status).toBe(429);
    expect(limited.error?.message).toBe("Too many claim attempts: wait a moment and try again.");
    expect(limited.error?.data).toMatchObject({
      domainCode: "RATE_LIMITED",
      retryAfterMs: expect.any(Number),
    });
    expect(queries).toBe(0);
  });
});

describe("procedures by role", () => {
  it("lets each role call exactly its own procedures: anonymous, shopper, staff of A and of B, admin", async () => {
    const dealId = await liveDealId(); // the bakery's (merchant A)
    const [bakery] = await database.db.select().from(deals).where(eq(deals.id, dealId));
    const merchantA = bakery?.merchantId ?? "";
    const cookies: Record<string, string | undefined> = {
      anonymous: undefined,
      shopper: await signIn(DEMO_ACCOUNTS.shoppers[0] ?? ""),
      staffA: await signIn(DEMO_ACCOUNTS.merchantStaff[0] ?? ""),
      staffB: await signIn(DEMO_ACCOUNTS.merchantStaff[1] ?? ""),
      admin: await signIn(DEMO_ACCOUNTS.admin),
    };
    const soon = Date.now() + 3_600_000;
    const newDeal = {
      merchantId: merchantA,
      title: "Matrix test deal",
      description: "",
      priceCents: 0,
      originalPriceCents: null,
      quantity: 5,
      startsAt: new Date(soon),
      endsAt: new Date(soon + 3_600_000),
      voucherValidUntil: new Date(soon + 7_200_000),
      location: { lat: 52.37, lng: 4.89 },
      geofenceRadiusM: null,
    };
    const [adminUser] = await database.db
      .select()
      .from(users)
      .where(eq(users.email, DEMO_ACCOUNTS.admin));
    const toCancel = await services.dealManagement.create(
      { userId: adminUser?.id ?? "", role: "admin", displayName: "Setup" },
      newDeal,
    );
    const place = {
      name: "Matrix Mart",
      address: "Damrak 1, Amsterdam",
      location: { lat: 52.37, lng: 4.89 },
    };
    const ADMIN = ["admin"];
    const STAFF = ["staffA", "staffB"];
    const OWNERS = ["staffA", "admin"];
    /** [procedure, input, roles allowed, status an allowed role gets (200 unless stated)] */
    const procedures: [string, unknown, string[], number?][] = [
      ["claims.mine", undefined, ["shopper"]],
      ["vouchers.mine", undefined, ["shopper"]],
      ["merchant.myDeals", undefined, STAFF],
      ["merchant.shop", undefined, STAFF],
      ["merchant.revocations", { after: null }, STAFF],
      ["merchant.redeem", { token: "not-a-voucher" }, STAFF],
      ["merchant.devices", undefined, STAFF],
      ["merchant.enrollDevice", { name: "Matrix till" }, STAFF],
      ["merchant.revokeDevice", { deviceId: newId() }, STAFF, 404],
      ["merchant.keepDevice", { deviceId: newId() }, STAFF, 404],
      ["merchant.redemptions", undefined, STAFF],
      ["merchant.auditLog", { before: null }, STAFF],
      ["sales.list", undefined, [...STAFF, "admin"]],
      ["sales.get", { dealId }, OWNERS],
      ["sales.snapshot", { dealId }, OWNERS],
      ["sales.history", { dealId }, OWNERS],
      ["sales.create", newDeal, OWNERS],
      ["sales.update", { dealId, changes: { quantity: 100 } }, OWNERS],
      ["sales.cancel", { dealId: toCancel.id, reason: "matrix test" }, OWNERS],
      ["admin.gateStatus", { dealId }, ADMIN],
      ["admin.rebuildGate", { dealId }, ADMIN],
      ["admin.merchants", undefined, ADMIN],
      ["admin.merchant", { merchantId: merchantA }, ADMIN],
      ["admin.createMerchant", place, ADMIN],
      [
        "admin.updateMerchant",
        { merchantId: merchantA, fields: { ...place, name: "Bakkerij de Jong" } },
        ADMIN,
      ],
      [
        "admin.inviteStaff",
        {
          merchantId: merchantA,
          person: { email: `m-${newId().toLowerCase()}@staff.test`, displayName: "M" },
        },
        ADMIN,
      ],
      ["admin.devices", undefined, ADMIN],
      ["admin.revokeDevice", { deviceId: newId() }, ADMIN, 404],
      ["admin.keepDevice", { deviceId: newId() }, ADMIN, 404],
      ["admin.accounts", { search: "" }, ADMIN],
      ["admin.deactivateAccount", { userId: newId() }, ADMIN, 404],
      ["admin.reactivateAccount", { userId: newId() }, ADMIN, 404],
      ["admin.changeAccountRole", { userId: newId(), change: { role: "shopper" } }, ADMIN, 404],
      ["admin.revokeInvite", { inviteId: newId() }, ADMIN, 404],
      ["admin.redemptions", undefined, ADMIN],
      ["admin.signingKeys", undefined, ADMIN],
      ["admin.stageSigningKey", undefined, ADMIN],
      ["admin.activateSigningKey", undefined, ADMIN, 409],
      ["admin.retireSigningKey", { kid: "A".repeat(43) }, ADMIN, 404],
      ["admin.auditLog", { merchantId: null, before: null }, ADMIN],
    ];
    const seen: string[] = [];
    const expected: string[] = [];
    for (const [path, input, allowed, allowedStatus = 200] of procedures) {
      for (const [role, cookie] of Object.entries(cookies)) {
        const answer = await call(path, input, { cookie });
        const status = allowed.includes(role) ? allowedStatus : role === "anonymous" ? 401 : 403;
        seen.push(`${path} as ${role}: ${answer.status}`);
        expected.push(`${path} as ${role}: ${status}`);
      }
    }
    expect(seen).toEqual(expected);
    // Every procedure of the admin, merchant and sales routers is in the matrix.
    const covered = new Set(procedures.map(([path]) => path));
    const all = Object.keys(appRouter._def.procedures).filter((path) =>
      /^(admin|merchant|sales)\./.test(path),
    );
    expect(all.filter((path) => !covered.has(path) && path !== "sales.monitor")).toEqual([]);
  });

  it("shows staff only their own merchant's deals", async () => {
    const staff = await signIn(DEMO_ACCOUNTS.merchantStaff[1] ?? "");
    const answer = await call("merchant.myDeals", undefined, { cookie: staff });
    const titles = (answer.data as unknown as { title: string }[]).map((d) => d.title).sort();
    expect(titles).toEqual(["Flat white on the house", "Latte art masterclass seat"]);
  });

  it("never answers with private key material: the admin key list and a rotation show public facts only", async () => {
    const admin = await signIn(DEMO_ACCOUNTS.admin);
    const staged = await call("admin.stageSigningKey", undefined, { cookie: admin });
    const listed = await call("admin.signingKeys", undefined, { cookie: admin });
    expect(staged.status).toBe(200);
    for (const answer of [staged.data, ...((listed.data as unknown as object[]) ?? [])]) {
      expect(Object.keys(answer ?? {}).sort()).toEqual([
        "activatedAt",
        "kid",
        "published",
        "publishedAt",
        "retiredAt",
        "status",
      ]);
    }
    expect(JSON.stringify([staged, listed])).not.toMatch(/"d"|private|sealed|v1\./i);
  });

  it("reports and rebuilds a deal's gate against Postgres for admins", async () => {
    const dealId = await liveDealId();
    const admin = await signIn(DEMO_ACCOUNTS.admin);
    const keys = await services.redis?.keys(`${prefix}{deal:${dealId}}:meta`);
    await services.redis?.hset(keys?.[0] ?? "", "remaining", 7); // drift, as a bad restore would leave
    const drifted = await call("admin.gateStatus", { dealId }, { cookie: admin });
    expect(drifted.data).toMatchObject({ remainingAtGate: 7, consistent: false });
    const rebuilt = await call("admin.rebuildGate", { dealId }, { cookie: admin });
    expect(rebuilt.data).toMatchObject({ quantity: 100, consistent: true });
    const unknown = await call("admin.gateStatus", { dealId: newId() }, { cookie: admin });
    expect(unknown.status).toBe(404);
  });
});

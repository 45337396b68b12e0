import { eq, sql } from "drizzle-orm";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { merchantDevices, users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { createMerchant } from "@/testing/sale-fixtures";
import { TEST_REDIS_URL } from "@/testing/test-redis";
import { type TestServices, withTestServices } from "@/testing/test-services";
import { callTrpc } from "@/testing/trpc-call";
import { createServices, type Services } from "@/testing/wired-services";
import { hashPassword } from "../auth/password";
import { SessionCodec } from "../auth/session";
import { Sessions } from "../auth/sessions";
import { parseEnv } from "../env";
import { answerClaim } from "../http/claim-route";

const PASSWORD = "the right password";

/**
 * Issue 14, item 5: the server ends sessions, and does when the person behind one loses the
 * right to it. Every trigger runs in embedded mode (standings in this process) and in Redis
 * mode (a Redis copy, pub/sub to other processes); Postgres is the truth in both.
 */
describe.each([
  ["embedded", withTestServices()],
  ["Redis", withTestServices({ redis: true })],
])("issue 14 item 5 (%s mode): sessions the server can end", (_mode, world: TestServices) => {
  const call = (path: string, input?: unknown, cookie?: string, query = false) =>
    callTrpc(world.services, path, input, { cookie, query });
  let admin = "";
  let merchantId = "";
  let otherMerchantId = "";

  async function account(role: "shopper" | "merchant" | "admin", shop = merchantId) {
    const userId = newId();
    const email = `${role}-${userId.toLowerCase()}@revocation.test`;
    await world.database.db.insert(users).values({
      id: userId,
      email,
      displayName: `${role} ${userId}`,
      passwordHash: await hashPassword(PASSWORD),
      role,
      merchantId: role === "merchant" ? shop : null,
    });
    return { userId, email, signIn: () => signIn(email) };
  }

  async function signIn(email: string, password = PASSWORD) {
    const answer = await call("auth.signIn", { email, password });
    expect(answer.status).toBe(200);
    return answer.cookie;
  }

  /** Who a cookie is to the server now: `auth.me` answers null for a session it refuses. */
  const me = async (cookie: string) =>
    (await call("auth.me", undefined, cookie, true)).data as { userId: string } | null;

  const claimWith = (cookie: string) =>
    answerClaim(world.services, {
      method: "POST",
      header: (name) =>
        ({ "content-type": "application/json", cookie })[name as "cookie" | "content-type"],
      body: async () => JSON.stringify({ dealId: newId(), idempotencyKey: `key-${newId()}` }),
      address: "192.0.2.7",
    });

  beforeAll(async () => {
    merchantId = (await createMerchant(world.database.db)).id;
    otherMerchantId = (await createMerchant(world.database.db)).id;
    admin = await (await account("admin")).signIn();
  });

  it("signing out ends that session on the server, and no other", async () => {
    const shopper = await account("shopper");
    const [here, there] = [await shopper.signIn(), await shopper.signIn()];
    const bystander = await (await account("shopper")).signIn();
    expect((await me(here))?.userId).toBe(shopper.userId);

    expect((await call("auth.signOut", undefined, here)).status).toBe(200);
    expect(await me(here)).toBeNull();
    const payload = here.split(".")[1] ?? "";
    const { sid } = JSON.parse(Buffer.from(payload, "base64url").toString()) as { sid: string };
    expect((await world.services.standings.refresh(shopper.userId))?.ended).toEqual([sid]);
    expect((await claimWith(here)).status).toBe(401);
    expect((await me(there))?.userId).toBe(shopper.userId);
    expect(await me(bystander)).not.toBeNull();
  });

  it("'sign out everywhere' ends every session of the account, and a new sign-in works", async () => {
    const shopper = await account("shopper");
    const [here, there] = [await shopper.signIn(), await shopper.signIn()];
    const bystander = await (await account("shopper")).signIn();

    expect((await call("auth.signOutEverywhere", undefined, here)).status).toBe(200);
    expect(await me(here)).toBeNull();
    expect(await me(there)).toBeNull();
    expect((await claimWith(there)).status).toBe(401);
    expect(await me(bystander)).not.toBeNull();
    expect((await me(await shopper.signIn()))?.userId).toBe(shopper.userId);
  });

  it("a password change ends every other session; this browser gets a fresh one", async () => {
    const shopper = await account("shopper");
    const [here, there] = [await shopper.signIn(), await shopper.signIn()];
    const wrong = await call(
      "auth.changePassword",
      { current: "not the password", next: "a brand new password" },
      here,
    );
    expect(wrong.error?.data).toMatchObject({ domainCode: "INVALID_CREDENTIALS" });
    expect(await me(there)).not.toBeNull();

    const changed = await call(
      "auth.changePassword",
      { current: PASSWORD, next: "a brand new password" },
      here,
    );
    expect(changed.status).toBe(200);
    expect(await me(here)).toBeNull();
    expect(await me(there)).toBeNull();
    expect((await me(changed.cookie))?.userId).toBe(shopper.userId);
    expect((await call("auth.signIn", { email: shopper.email, password: PASSWORD })).status).toBe(
      401,
    );
  });

  it("a role change ends the staff member's sessions: the demoted cannot enrol a device", async () => {
    const staff = await account("merchant");
    const session = await staff.signIn();
    const colleague = await (await account("merchant")).signIn();
    expect((await call("merchant.enrollDevice", { name: "Till 1" }, session)).status).toBe(200);

    const changed = await call(
      "admin.changeAccountRole",
      { userId: staff.userId, change: { role: "shopper" } },
      admin,
    );
    expect(changed.status).toBe(200);
    const refused = await call("merchant.enrollDevice", { name: "Till 2" }, session);
    expect(refused.status).toBe(401);
    expect(await me(session)).toBeNull();
    expect((await call("merchant.devices", undefined, colleague, true)).status).toBe(200);
    // Signed in again, the account is what the admin made it: a shopper.
    const again = await staff.signIn();
    expect((await call("merchant.enrollDevice", { name: "Till 3" }, again)).status).toBe(403);
    const audit = await call("admin.auditLog", { merchantId, before: null }, admin, true);
    expect(JSON.stringify(audit.data)).toContain("account.role");
  });

  it("a merchant change ends the sessions made for the old shop", async () => {
    const staff = await account("merchant");
    const session = await staff.signIn();
    const moved = await call(
      "admin.changeAccountRole",
      { userId: staff.userId, change: { role: "merchant", merchantId: otherMerchantId } },
      admin,
    );
    expect(moved.status).toBe(200);
    expect(await me(session)).toBeNull();
    const shop = await call("merchant.shop", undefined, await staff.signIn(), true);
    expect((shop.data as { id: string }).id).toBe(otherMerchantId);
  });

  it("deactivation ends every session at once and refuses sign-in until reactivated", async () => {
    const shopper = await account("shopper");
    const session = await shopper.signIn();
    const bystander = await (await account("shopper")).signIn();
    const found = await call("admin.accounts", { search: shopper.email }, admin, true);
    expect(found.data).toMatchObject([{ userId: shopper.userId, deactivatedAt: null }]);

    const done = await call("admin.deactivateAccount", { userId: shopper.userId }, admin);
    expect(done).toMatchObject({ status: 200, data: { deactivatedAt: expect.any(Date) } });
    expect(await me(session)).toBeNull();
    expect((await claimWith(session)).status).toBe(401);
    expect(await me(bystander)).not.toBeNull();
    const signIn = await call("auth.signIn", { email: shopper.email, password: PASSWORD });
    expect(signIn.status).toBe(403);
    expect(signIn.error?.data.domainCode).toBe("ACCOUNT_DEACTIVATED");
    // A wrong password is told nothing about the account.
    const guess = await call("auth.signIn", { email: shopper.email, password: "a wrong guess" });
    expect(guess.error?.data.domainCode).toBe("INVALID_CREDENTIALS");

    expect((await call("admin.reactivateAccount", { userId: shopper.userId }, admin)).status).toBe(
      200,
    );
    expect(await me(session)).toBeNull();
    expect((await me(await shopper.signIn()))?.userId).toBe(shopper.userId);
    const self = await call("admin.accounts", { search: "admin-" }, admin, true);
    const adminId = (self.data as { userId: string; role: string }[]).find(
      (row) => row.role === "admin",
    )?.userId;
    const own = await call("admin.deactivateAccount", { userId: adminId }, admin);
    expect(own.error?.data.domainCode).toBe("INVALID_STATE");
  });

  it("holds a device whose enroller lost the role: refused until the owner keeps or revokes it", async () => {
    const leaver = await account("merchant");
    const owner = await (await account("merchant")).signIn();
    const leaverSession = await leaver.signIn();
    const enrol = async (name: string) =>
      (await call("merchant.enrollDevice", { name }, leaverSession)).data as {
        deviceId: string;
        credential: string;
      };
    const [kept, revoked] = [await enrol("Till kept"), await enrol("Till revoked")];
    const bundle = (credential: string) => callTrpcAsDevice(world.services, credential);
    expect((await bundle(kept.credential)).status).toBe(200);

    await call("admin.deactivateAccount", { userId: leaver.userId }, admin);
    for (const device of [kept, revoked]) {
      const held = await bundle(device.credential);
      expect(held.status).toBe(403);
      expect(held.domainCode).toBe("DEVICE_ON_HOLD");
    }
    const listed = (await call("merchant.devices", undefined, owner, true)).data as {
      deviceId: string;
      holdReason: string | null;
    }[];
    expect(listed.find((d) => d.deviceId === kept.deviceId)?.holdReason).toBe(
      "enroller-deactivated",
    );

    expect((await call("merchant.keepDevice", { deviceId: kept.deviceId }, owner)).status).toBe(
      200,
    );
    expect((await bundle(kept.credential)).status).toBe(200);
    expect((await call("admin.revokeDevice", { deviceId: revoked.deviceId }, admin)).status).toBe(
      200,
    );
    expect((await bundle(revoked.credential)).domainCode).toBe("DEVICE_REVOKED");
    const afterwards = (await call("admin.devices", undefined, admin, true)).data as {
      deviceId: string;
      holdReason: string | null;
    }[];
    const mine = afterwards.filter((d) => [kept.deviceId, revoked.deviceId].includes(d.deviceId));
    expect(mine.map((d) => d.holdReason)).toEqual([null, null]);
  });

  it("a demotion made in SQL behind the app's back: no device enrolled, devices on hold, sessions end", async () => {
    const staff = await account("merchant");
    const session = await staff.signIn();
    const device = (await call("merchant.enrollDevice", { name: "Till" }, session)).data as {
      credential: string;
    };
    await world.database.db.execute(
      sql`update users set role = 'shopper', merchant_id = null where id = ${staff.userId}`,
    );
    // This process may trust its copy of the account for a while: Postgres is asked anyway
    // before a credential that outlives sessions is made, and at every device call.
    const refused = await call("merchant.enrollDevice", { name: "Till 2" }, session);
    expect(refused.status).toBeGreaterThanOrEqual(401);
    expect(refused.status).toBeLessThanOrEqual(403);
    expect((await callTrpcAsDevice(world.services, device.credential)).domainCode).toBe(
      "DEVICE_ON_HOLD",
    );
    expect(
      await world.database.db.$count(merchantDevices, eq(merchantDevices.name, "Till 2")),
    ).toBe(0);
    // The trigger moved the generation: a process reading Postgres refuses the session.
    await world.services.standings.refresh(staff.userId);
    expect(await me(session)).toBeNull();
  });

  it("refuses tokens that carry no session id or generation (issued before revocation)", async () => {
    const shopper = await account("shopper");
    const payload = (await shopper.signIn()).replace("dd_session=", "").split(".")[1] ?? "";
    expect(JSON.parse(Buffer.from(payload, "base64url").toString())).toMatchObject({
      sid: expect.any(String),
      gen: 0,
    });
    const secret = "a session secret for the legacy token test, long enough";
    const sessions = new Sessions(
      new SessionCodec(secret),
      world.services.standings,
      world.database.db,
      () => new Date(),
    );
    // Signed as sessions were before this change: the same claims without sid and gen.
    const legacy = await new SignJWT({ role: "shopper", name: "S" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(shopper.userId)
      .setIssuer("dealdrop")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(secret));
    expect(await sessions.read(legacy)).toBeNull();
    expect(
      await sessions.read(await sessions.issue({ ...shopperSession(shopper.userId) })),
    ).not.toBeNull();
  });
});

/** A device's trust bundle call, with the device's credential. */
async function callTrpcAsDevice(services: Services, credential: string) {
  const { handleTrpcRequest } = await import("../api/http-handler");
  const { testCaller } = await import("@/testing/test-caller");
  const input = encodeURIComponent(JSON.stringify({ json: {} }));
  const response = await handleTrpcRequest(
    services,
    new Request(`http://127.0.0.1/api/trpc/device.trustBundle?input=${input}`, {
      headers: { "x-device-credential": credential, "sec-fetch-site": "same-origin" },
    }),
    testCaller(),
  );
  const body = (await response.json()) as { error?: { json: { data: { domainCode?: string } } } };
  return { status: response.status, domainCode: body.error?.json.data.domainCode };
}

const shopperSession = (userId: string) => ({
  userId,
  role: "shopper" as const,
  displayName: "S",
});

describe("issue 14 item 5: a change on one server ends sessions on every other at once", () => {
  const world = withTestServices({ redis: true });
  let second: Services;

  beforeAll(async () => {
    second = await createServices(
      parseEnv({
        DATABASE_URL: world.database.url,
        DEMO_SEED: "off",
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: world.redis?.prefix ?? "",
      }),
    );
    await Promise.all([world.services.standings.listening(), second.standings.listening()]);
  });
  afterAll(async () => second?.stop());

  it("drops the other process's copy: its next read refuses the session, others unaffected", async () => {
    const make = async (role: "shopper" | "admin") => {
      const userId = newId();
      const email = `${role}-${userId.toLowerCase()}@two.test`;
      await world.database.db.insert(users).values({
        id: userId,
        email,
        displayName: role,
        passwordHash: await hashPassword(PASSWORD),
        role,
      });
      const answer = await callTrpc(world.services, "auth.signIn", { email, password: PASSWORD });
      return { userId, cookie: answer.cookie };
    };
    const [admin, shopper, bystander] = [
      await make("admin"),
      await make("shopper"),
      await make("shopper"),
    ];
    const meOn = async (services: Services, cookie: string) =>
      (await callTrpc(services, "auth.me", undefined, { cookie, query: true })).data;
    // The second server has read both sessions and holds their accounts' standings.
    expect(await meOn(second, shopper.cookie)).not.toBeNull();
    expect(await meOn(second, bystander.cookie)).not.toBeNull();

    const dropped = new Promise<void>((resolve) => {
      const stop = second.standings.onDrop((userId) => {
        if (userId !== shopper.userId) return;
        stop();
        resolve();
      });
    });
    const done = await callTrpc(
      world.services,
      "admin.deactivateAccount",
      { userId: shopper.userId },
      { cookie: admin.cookie },
    );
    expect(done.status).toBe(200);
    await dropped;
    expect(await meOn(second, shopper.cookie)).toBeNull();
    expect(await meOn(second, bystander.cookie)).not.toBeNull();
  });
});

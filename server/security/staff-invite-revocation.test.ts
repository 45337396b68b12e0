import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { newId } from "@/lib/ids";
import { withTestServices } from "@/testing/test-services";
import { callTrpc } from "@/testing/trpc-call";

const world = withTestServices({ env: { DEMO_SEED: "on" } });
const call = (path: string, input?: unknown, cookie?: string, query = false) =>
  callTrpc(world.services, path, input, { cookie, query });

let admin = "";
let shopper = "";
let merchantId = "";

async function signIn(email: string) {
  const answer = await call("auth.signIn", { email, password: DEMO_ACCOUNTS.password });
  expect(answer.status).toBe(200);
  return answer.cookie;
}

async function invite(email = `invitee-${newId().toLowerCase()}@example.test`) {
  const answer = await call(
    "admin.inviteStaff",
    { merchantId, person: { email, displayName: "Invitee" } },
    admin,
  );
  expect(answer.status).toBe(200);
  const { inviteId, invitePath } = answer.data as { inviteId: string; invitePath: string };
  return { inviteId, token: invitePath.replace("/invite/", ""), email };
}

beforeAll(async () => {
  admin = await signIn(DEMO_ACCOUNTS.admin);
  shopper = await signIn(DEMO_ACCOUNTS.shoppers[0] ?? "");
  const merchants = await call("admin.merchants", undefined, admin, true);
  merchantId = (merchants.data as { id: string }[])[0]?.id ?? "";
});

describe("issue 14 item 10: staff invitations can be withdrawn", () => {
  it("refuses a withdrawn link with INVITE_REVOKED, to read or to accept, creating no account", async () => {
    const { inviteId, token, email } = await invite();
    expect((await call("auth.invite", { token }, undefined, true)).status).toBe(200);

    const revoked = await call("admin.revokeInvite", { inviteId }, admin);
    expect(revoked).toMatchObject({ status: 200, data: { inviteId, revokedAt: expect.any(Date) } });
    // Twice is the same answer, not an error.
    expect((await call("admin.revokeInvite", { inviteId }, admin)).data).toEqual(revoked.data);

    for (const answer of [
      await call("auth.invite", { token }, undefined, true),
      await call("auth.acceptInvite", { token, password: "a long new password" }),
    ]) {
      expect(answer.status).toBe(403);
      expect(answer.error).toMatchObject({
        message: expect.stringMatching(/withdrawn/),
        data: { code: "FORBIDDEN", domainCode: "INVITE_REVOKED" },
      });
    }
    expect(await world.database.db.select().from(users).where(eq(users.email, email))).toEqual([]);
    const merchant = await call("admin.merchant", { merchantId }, admin, true);
    const listed = (merchant.data as { invites: { inviteId: string; revokedAt: Date | null }[] })
      .invites;
    expect(listed.find((row) => row.inviteId === inviteId)?.revokedAt).toBeInstanceOf(Date);
  });

  it("lets only admins withdraw, and not an invitation already used", async () => {
    const { inviteId, token } = await invite();
    const refused = await call("admin.revokeInvite", { inviteId }, shopper);
    expect(refused.error?.data.code).toBe("FORBIDDEN");
    expect((await call("admin.revokeInvite", { inviteId: newId() }, admin)).status).toBe(404);
    expect(
      (await call("auth.acceptInvite", { token, password: "a long new password" })).status,
    ).toBe(200);
    const used = await call("admin.revokeInvite", { inviteId }, admin);
    expect(used.error?.data).toMatchObject({ code: "CONFLICT", domainCode: "INVALID_STATE" });
  });
});

import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, users } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { clockStart } from "@/testing/test-clock";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import type { Actor } from "../auth/actor";
import { parseEnv } from "../env";

let database: TestDatabase;
let services: Services;
const START = clockStart();
let now = START;
let admin: Actor;

beforeAll(async () => {
  database = await createTestDatabase();
  services = await createServices(parseEnv({ DATABASE_URL: database.url, DEMO_SEED: "on" }), {
    clock: () => now,
  });
  const [row] = await database.db.select().from(users).where(eq(users.email, DEMO_ACCOUNTS.admin));
  admin = { userId: row?.id ?? "", role: "admin", displayName: row?.displayName ?? "" };
});
afterAll(async () => {
  await services?.stop();
  await database?.drop();
});

const tokenOf = (invitePath: string) => invitePath.replace("/invite/", "");

describe("merchants and staff invitations", () => {
  it("creates a merchant, invites staff once, and the new account manages that merchant only", async () => {
    const shop = await services.merchants.create(admin, {
      name: "Fietsen Frits",
      address: "Haarlemmerstraat 10, Amsterdam",
      location: { lat: 52.38, lng: 4.89 },
    });
    const invite = await services.staffInvites.invite(admin, shop.id, {
      email: "frits@fietsen.test",
      displayName: "Frits",
    });
    const token = tokenOf(invite.invitePath);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await services.staffInvites.describe(token)).toMatchObject({
      email: "frits@fietsen.test",
      merchantName: "Fietsen Frits",
    });

    const session = await services.staffInvites.accept(token, "a long new password");
    expect(session).toMatchObject({ role: "merchant", merchantId: shop.id, displayName: "Frits" });
    const signedIn = await services.auth.signIn(
      { email: "frits@fietsen.test", password: "a long new password" },
      "192.0.2.50",
    );
    expect(signedIn.merchantId).toBe(shop.id);
    await expect(services.staffInvites.accept(token, "another password")).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    await expect(
      services.staffInvites.invite(admin, shop.id, {
        email: "frits@fietsen.test",
        displayName: "F",
      }),
    ).rejects.toMatchObject({ code: "EMAIL_TAKEN" });

    const detail = await services.merchants.get(shop.id);
    expect(detail.staff.map((s) => s.email)).toEqual(["frits@fietsen.test"]);
    const entries = await database.db
      .select({ action: auditLog.action, actor: auditLog.actorName })
      .from(auditLog)
      .where(eq(auditLog.merchantId, shop.id))
      .orderBy(auditLog.at);
    expect(entries).toEqual([
      { action: "merchant.create", actor: admin.displayName },
      { action: "staff.invite", actor: admin.displayName },
      { action: "staff.join", actor: "Frits" },
    ]);
  });

  it("refuses an unknown or expired link, and stores only the token's hash", async () => {
    const [shop] = await services.merchants.list();
    const invite = await services.staffInvites.invite(admin, shop?.id ?? "", {
      email: "late@staff.test",
      displayName: "Late",
    });
    const token = tokenOf(invite.invitePath);
    const stored = JSON.stringify(await database.db.execute("SELECT * FROM staff_invites"));
    expect(stored).not.toContain(token);
    await expect(services.staffInvites.describe("x".repeat(32))).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    now = new Date(now.getTime() + 8 * 24 * 3_600_000);
    await expect(services.staffInvites.accept(token, "long enough pw")).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const [account] = await database.db
      .select()
      .from(users)
      .where(eq(users.email, "late@staff.test"));
    expect(account).toBeUndefined();
  });
});

import { randomBytes, scryptSync } from "node:crypto";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { withTestServices } from "@/testing/test-services";
import { hashPassword, verifyPassword } from "../auth/password";

/** OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1 is the minimum. */
const OWASP_MINIMUM = { N: 2 ** 17, r: 8, p: 1 };

function paramsOf(encoded: string) {
  const [scheme, N, r, p] = encoded.split("$");
  return { scheme, N: Number(N), r: Number(r), p: Number(p) };
}

/** A hash as the app wrote them before: N=2^15. */
function oldHash(password: string) {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize("NFKC"), salt, 32, {
    N: 2 ** 15,
    r: 8,
    p: 1,
    maxmem: 64 * 1024 * 1024,
  });
  return ["scrypt", 2 ** 15, 8, 1, salt.toString("base64url"), key.toString("base64url")].join("$");
}

const world = withTestServices();

describe("issue 14 item 10: scrypt at or above OWASP's minimum", () => {
  it("hashes new passwords with N=2^17, r=8, p=1 or more", async () => {
    const params = paramsOf(await hashPassword("a long enough password"));
    expect(params.scheme).toBe("scrypt");
    expect(params.N).toBeGreaterThanOrEqual(OWASP_MINIMUM.N);
    expect(params.r).toBeGreaterThanOrEqual(OWASP_MINIMUM.r);
    expect(params.p).toBeGreaterThanOrEqual(OWASP_MINIMUM.p);
  });

  it("still accepts a hash made with the old parameters, and makes it again at sign-in", async () => {
    const email = `old-${newId().toLowerCase()}@example.test`;
    const before = oldHash("my old password");
    expect(await verifyPassword("my old password", before)).toBe(true);
    expect(await verifyPassword("not my password", before)).toBe(false);
    const id = newId();
    await world.database.db
      .insert(users)
      .values({ id, email, displayName: "Old", passwordHash: before, role: "shopper" });

    const session = await world.services.auth.signIn(
      { email, password: "my old password" },
      "192.0.2.9",
    );
    expect(session.userId).toBe(id);
    const stored = async () =>
      (await world.database.db.select().from(users).where(eq(users.id, id)))[0]?.passwordHash ?? "";
    await vi.waitFor(async () => expect(await stored()).not.toBe(before), { timeout: 30_000 });
    expect(paramsOf(await stored()).N).toBeGreaterThanOrEqual(OWASP_MINIMUM.N);
    expect(await verifyPassword("my old password", await stored())).toBe(true);
    await expect(
      world.services.auth.signIn({ email, password: "my old password" }, "192.0.2.9"),
    ).resolves.toMatchObject({ userId: id });
  });
});

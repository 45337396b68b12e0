import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { readCookie, SessionCodec } from "./session";

const SECRET = "session-test-secret-that-is-long-enough-0123456789";
const codec = new SessionCodec(SECRET);
const sam = { userId: "c48uTRtqX6xr", role: "shopper" as const, displayName: "Sam" };

/** A token made with jose directly, to vary one thing at a time. */
function token(
  changes: {
    secret?: string;
    issuer?: string;
    expires?: number | string;
    alg?: string;
    typ?: string;
  } = {},
) {
  return new SignJWT({ role: "shopper", name: "Sam" })
    .setProtectedHeader({
      alg: changes.alg ?? "HS256",
      ...(changes.typ && { typ: changes.typ }),
    })
    .setSubject(sam.userId)
    .setIssuer(changes.issuer ?? "dealdrop")
    .setIssuedAt()
    .setExpirationTime(changes.expires ?? "1h")
    .sign(new TextEncoder().encode(changes.secret ?? SECRET));
}

describe("SessionCodec", () => {
  it("reads back what it issued", async () => {
    const issued = { sessionId: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/), generation: 0 };
    expect(await codec.read(await codec.issue(sam))).toEqual({
      ...sam,
      merchantId: undefined,
      ...issued,
    });
    const staff = { ...sam, role: "merchant" as const, merchantId: "M3rchant0001" };
    expect(await codec.read(await codec.issue({ ...staff, generation: 3 }))).toEqual({
      ...staff,
      ...issued,
      generation: 3,
    });
  });

  it("reads a token signed by jose with the same secret", async () => {
    expect(await codec.read(await token())).toMatchObject({ userId: sam.userId });
  });

  it("refuses tokens it did not sign, altered, expired, from another issuer, or unsigned", async () => {
    const good = await codec.issue(sam);
    const [header, payload, signature] = good.split(".");
    const admin = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()),
        role: "admin",
      }),
    ).toString("base64url");
    const refused = [
      undefined,
      "",
      "not-a-token",
      `${header}.${payload}`,
      `${header}.${admin}.${signature}`,
      `${header}.${payload}.${signature?.slice(0, -2)}`,
      `${header}.${payload}.`,
      `${good}x`,
      await token({ secret: "another-secret-that-is-long-enough-0123456789" }),
      await token({ expires: Math.floor(Date.now() / 1000) - 5 }),
      await token({ issuer: "someone-else" }),
      await token({ alg: "HS512" }),
      // Rightly signed, but with a header `issue` never writes.
      await token({ typ: "JWT" }),
      new UnsecuredJWT({ role: "admin", name: "x" }).setSubject("x").setIssuer("dealdrop").encode(),
    ];
    for (const bad of refused) expect(await codec.read(bad)).toBeNull();
  });
});

describe("readCookie", () => {
  it("finds one cookie among others, wherever it is, and nothing else", () => {
    expect(readCookie("dd_session=abc.def", "dd_session")).toBe("abc.def");
    expect(readCookie("a=1; dd_session=x=y;b=2", "dd_session")).toBe("x=y");
    expect(readCookie("a=1;   dd_session=tok  ", "dd_session")).toBe("tok");
    expect(readCookie("xdd_session=1; dd_session=2", "dd_session")).toBe("2");
    expect(readCookie("dd_session_old=1", "dd_session")).toBeUndefined();
    expect(readCookie("a=1; b=2", "dd_session")).toBeUndefined();
    expect(readCookie("", "dd_session")).toBeUndefined();
    expect(readCookie(null, "dd_session")).toBeUndefined();
    expect(readCookie("dd_session=", "dd_session")).toBe("");
  });
});

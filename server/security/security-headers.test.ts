import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { jsonAnswer } from "../http/json-answer";
import {
  ANSWER_POLICY,
  createSecurityHeaderSetter,
  newNonce,
  pagePolicy,
  securityHeaders,
  servedOverHttps,
} from "./security-headers";

/** A policy as a map from directive to its sources. */
function directives(policy: string) {
  return new Map(
    policy.split(";").map((part) => {
      const [name = "", ...sources] = part.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );
}

describe("a page's Content-Security-Policy", () => {
  it("runs only scripts carrying this answer's nonce, and never inline code without it", () => {
    const policy = directives(pagePolicy("bm9uY2Utb25l"));
    expect(policy.get("script-src")).toEqual([
      "'self'",
      "'nonce-bm9uY2Utb25l'",
      "'strict-dynamic'",
    ]);
    expect(policy.get("style-src")).toEqual(["'self'", "'nonce-bm9uY2Utb25l'"]);
    for (const sources of policy.values()) expect(sources).not.toContain("'unsafe-eval'");
    const inlineAllowed = [...policy].filter(([, sources]) => sources.includes("'unsafe-inline'"));
    expect(inlineAllowed.map(([name]) => name)).toEqual(["style-src-attr"]);
  });

  it("allows eval and nonce-less styles under `next dev` only", () => {
    const dev = directives(pagePolicy("bm9uY2Utb25l", { dev: true }));
    expect(dev.get("script-src")).toContain("'unsafe-eval'");
    expect(dev.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    const production = directives(pagePolicy("bm9uY2Utb25l"));
    expect(production.get("script-src")).not.toContain("'unsafe-eval'");
  });

  it("is never framed, loads plugins from nowhere, and lets no <base> move the page's links", () => {
    const policy = directives(pagePolicy(newNonce()));
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
  });

  it("gets a nonce of 128 random bits, a new one every time", () => {
    const nonces = new Set(Array.from({ length: 1_000 }, newNonce));
    expect(nonces.size).toBe(1_000);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });
});

describe("the headers every answer carries", () => {
  const camera = (pathname: string) =>
    new Map(securityHeaders(pathname, { https: false })).get("permissions-policy");

  it("allow the camera in the counter app's pages only", () => {
    for (const pathname of ["/merchant", "/merchant/deals", "/merchant/devices"]) {
      expect(camera(pathname), pathname).toMatch(/(^|, )camera=\(self\)/);
    }
    for (const pathname of ["/", "/sign-in", "/admin", "/merchants", "/merchantile", "/api"]) {
      expect(camera(pathname), pathname).toMatch(/(^|, )camera=\(\)/);
    }
  });

  it("forbid sniffing and framing, keep the address on the site, and say HSTS only over HTTPS", () => {
    const plain = new Map(securityHeaders("/", { https: false }));
    expect(plain.get("x-content-type-options")).toBe("nosniff");
    expect(plain.get("referrer-policy")).toBe("same-origin");
    expect(plain.get("content-security-policy")).toBe(ANSWER_POLICY);
    expect(directives(ANSWER_POLICY).get("frame-ancestors")).toEqual(["'none'"]);
    expect(plain.has("strict-transport-security")).toBe(false);
    const secure = new Map(securityHeaders("/", { https: true }));
    expect(secure.get("strict-transport-security")).toMatch(/^max-age=31536000\b/);
  });

  it("count as HTTPS when PUBLIC_URL is an https: address, and only then", () => {
    expect(servedOverHttps("https://deals.example")).toBe(true);
    expect(servedOverHttps("http://deals.example")).toBe(false);
    expect(servedOverHttps(undefined)).toBe(false);
  });

  it("reach a JSON answer a route writes with its own headers, judged by the path alone", async () => {
    const setSecurityHeaders = createSecurityHeaderSetter({ https: true });
    const server = createServer((req, res) => {
      setSecurityHeaders(req.url, res);
      const { status, headers, body } = jsonAnswer(
        404,
        { error: { code: "NOT_FOUND", message: "none" } },
        "GET",
      );
      res.writeHead(status, headers).end(body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const headersOf = async (path: string) =>
        (await fetch(`http://127.0.0.1:${port}${path}`)).headers;
      const answer = await headersOf("/api/anything?x=/merchant");
      expect(answer.get("content-type")).toBe("application/json");
      expect(answer.get("x-content-type-options")).toBe("nosniff");
      expect(answer.get("content-security-policy")).toBe(ANSWER_POLICY);
      expect(answer.get("strict-transport-security")).toMatch(/^max-age=/);
      // Read by scripts, never shown: nothing a document-only header would change.
      expect(answer.has("permissions-policy")).toBe(false);
      expect(answer.has("referrer-policy")).toBe(false);
      const counter = await headersOf("/merchant?from=home");
      expect(counter.get("permissions-policy")).toMatch(/(^|, )camera=\(self\)/);
    } finally {
      server.close();
    }
  });
});

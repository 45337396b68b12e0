import { describe, expect, it } from "vitest";
import { withTestServices } from "@/testing/test-services";
import type { Services } from "@/testing/wired-services";
import { describeMetricsAccess, serveMetrics } from "../observability/metrics-endpoint";

const world = withTestServices();
const TOKEN = "metrics-token-for-the-security-suite";

const scrape = (services: Services, authorization?: string) =>
  serveMetrics(
    services,
    new Request("http://127.0.0.1/api/metrics", {
      headers: authorization ? { authorization } : {},
    }),
  );

describe("issue 14 item 10: /api/metrics is not open in production", () => {
  it("refuses every scrape with DATABASE_URL set and no METRICS_TOKEN, and says why", async () => {
    const { services } = world;
    expect(services.env.DATABASE_URL).toBeDefined();
    expect(services.env.METRICS_TOKEN).toBeUndefined();
    for (const authorization of [undefined, "Bearer anything-at-all-here", "Basic x"]) {
      const response = await scrape(services, authorization);
      expect(response.status).toBe(403);
      const body = await response.text();
      expect(body).toMatch(/METRICS_TOKEN/);
      expect(body).not.toContain("dealdrop_");
    }
    expect(describeMetricsAccess(services.env)).toMatch(/METRICS_TOKEN is not set.*403/);
  });

  it("answers the token's holder only, once METRICS_TOKEN is set", async () => {
    const guarded = { ...world.services, env: { ...world.services.env, METRICS_TOKEN: TOKEN } };
    expect((await scrape(guarded)).status).toBe(401);
    expect((await scrape(guarded, "Bearer not-the-token-at-all")).status).toBe(401);
    const response = await scrape(guarded, `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("dealdrop_");
  });

  it("stays open in embedded mode (no DATABASE_URL), and says so at start", async () => {
    const embedded = { ...world.services, env: { ...world.services.env, DATABASE_URL: undefined } };
    expect((await scrape(embedded)).status).toBe(200);
    expect(describeMetricsAccess(embedded.env)).toMatch(/open to anyone \(embedded mode\)/);
  });
});

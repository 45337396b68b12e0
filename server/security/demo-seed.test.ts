import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { captureLog } from "@/testing/capture-log";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { demoSeedWanted } from "../auth/demo-accounts";
import { type EnvError, parseEnv } from "../env";
import { announceStart } from "../start-banner";

const databases: TestDatabase[] = [];
const started: Services[] = [];

async function start(env: Record<string, string>) {
  const database = await createTestDatabase();
  databases.push(database);
  const services = await createServices(parseEnv({ DATABASE_URL: database.url, ...env }));
  started.push(services);
  return services;
}

const userCount = async (services: Services) =>
  (await services.database.db.select({ n: count() }).from(users))[0]?.n ?? 0;

const warnings = (lines: Record<string, unknown>[]) =>
  lines.filter((line) => line.level === 40).map((line) => String(line.msg));

let defaults: Services;
beforeAll(async () => {
  defaults = await start({});
});
afterAll(async () => {
  await Promise.all(started.map((services) => services.stop()));
  await Promise.all(databases.map((database) => database.drop()));
});

describe("issue 14 item 4: a production start seeds no admin with a published password", () => {
  it("seeds nothing into an empty Postgres database unless DEMO_SEED=on", async () => {
    expect(defaults.env.DEMO_SEED).toBe("auto");
    expect(defaults.demoSeeded).toBe(false);
    expect(await userCount(defaults)).toBe(0);
    await expect(
      defaults.auth.signIn(
        { email: DEMO_ACCOUNTS.admin, password: DEMO_ACCOUNTS.password },
        "192.0.2.60",
      ),
    ).rejects.toMatchObject({ code: "INVALID_CREDENTIALS" });
    const lines = await captureLog(() => announceStart(defaults));
    expect(lines.map((line) => line.msg).join("\n")).toMatch(/npm run admin:create/);
    expect(warnings(lines).join("\n")).not.toMatch(/demo accounts/);
  });

  it("seeds with DEMO_SEED=on, and then warns of the demo accounts at every start", async () => {
    const demo = await start({ DEMO_SEED: "on" });
    expect(demo.demoSeeded).toBe(true);
    for (let start = 0; start < 2; start++) {
      const said = warnings(await captureLog(() => announceStart(demo))).join("\n");
      expect(said).toContain(DEMO_ACCOUNTS.admin);
      expect(said).toContain(DEMO_ACCOUNTS.password);
    }
    // Even with the seed turned off again, the accounts are still there to warn about.
    const later = await createServices({ ...demo.env, DEMO_SEED: "off" });
    started.push(later);
    expect(warnings(await captureLog(() => announceStart(later))).join("\n")).toContain(
      DEMO_ACCOUNTS.admin,
    );
  });

  it("keeps auto for embedded mode, and names each value when DEMO_SEED is wrong", () => {
    expect(demoSeedWanted({ DEMO_SEED: "auto", DATABASE_URL: undefined })).toBe(true);
    expect(demoSeedWanted({ DEMO_SEED: "auto", DATABASE_URL: "postgres://x/y" })).toBe(false);
    expect(demoSeedWanted({ DEMO_SEED: "on", DATABASE_URL: "postgres://x/y" })).toBe(true);
    expect(demoSeedWanted({ DEMO_SEED: "off", DATABASE_URL: undefined })).toBe(false);
    try {
      parseEnv({ DEMO_SEED: "yes" });
      expect.unreachable();
    } catch (error) {
      expect((error as EnvError).problems.join("\n")).toMatch(
        /DEMO_SEED: must be 'auto' .*embedded.*'on' .*Postgres too.*'off'/,
      );
    }
  });
});

import "server-only";
import type { DatabaseHandle } from "@/db/client";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { demoAccountsIn, demoAccountsWarning, demoSeedWanted } from "./auth/demo-accounts";
import { describeMode, type Env } from "./env";
import { log } from "./log";
import { describeMetricsAccess, metricsAccess } from "./observability/metrics-endpoint";
import type { Platform } from "./platform";

export interface StartFacts {
  env: Env;
  database: Pick<DatabaseHandle, "db">;
  platform: Pick<Platform, "name">;
  demoSeeded: boolean;
  sessionSecretSource: "env" | "database" | "generated";
  voucherKeySecretSource: "env" | "database" | "generated";
}

/** The first log lines: the mode, the URLs, the demo accounts, and what is not set that should be. */
export async function announceStart(facts: StartFacts) {
  const { env } = facts;
  const url = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const serverMode = env.DATABASE_URL || facts.platform.name === "redis";
  log.info(`Dealdrop running in ${serverMode ? "server" : "embedded"} mode: ${describeMode(env)}`);
  log.info(`Storefront: ${url}/   Sign in: ${url}/sign-in`);
  const demoLeft = env.DATABASE_URL ? await demoAccountsIn(facts.database.db) : [];
  if (demoLeft.length > 0) log.warn(demoAccountsWarning(demoLeft));
  else if (env.DATABASE_URL && env.DEMO_SEED === "auto") {
    log.info(
      "No demo seed with DATABASE_URL (DEMO_SEED=on asks for one). First admin: npm run admin:create.",
    );
  }
  if (facts.demoSeeded || (!env.DATABASE_URL && demoSeedWanted(env))) {
    const demo = DEMO_ACCOUNTS;
    log.info(
      `${facts.demoSeeded ? "Demo data seeded" : "Demo accounts"} (password for each: ${demo.password}). ` +
        `Admin: ${demo.admin}. Merchant staff: ${demo.merchantStaff.join(", ")}. ` +
        `Shoppers: ${demo.shoppers.join(", ")}.`,
    );
  }
  if (facts.sessionSecretSource !== "env") {
    log.warn("SESSION_SECRET is not set: using a secret generated and stored in the database.");
  }
  if (metricsAccess(env) === "refused") log.warn(describeMetricsAccess(env));
  else log.info(describeMetricsAccess(env));
  if (facts.voucherKeySecretSource !== "env") {
    log.warn(
      "VOUCHER_KEY_SECRET is not set: voucher signing keys are sealed with a secret stored in the " +
        "same database. Fine for a demo; set it for any real deployment.",
    );
  }
}

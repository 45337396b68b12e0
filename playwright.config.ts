import { defineConfig } from "@playwright/test";

/**
 * A second checkout on this machine can run its end-to-end tests beside these (a CI run and a
 * branch's run at once) by choosing other ports and another database: E2E_PORT (the embedded
 * app; server mode is the next port) and E2E_DATABASE.
 */
const PORT = Number(process.env.E2E_PORT ?? 3100);
/** The counter app and live stock run against server mode: real Postgres and Redis pub/sub. */
const SERVER_MODE_PORT = PORT + 1;
export const E2E_DATABASE = process.env.E2E_DATABASE ?? "dealdrop_e2e";
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(E2E_DATABASE) || !(PORT > 1024 && PORT < 65535)) {
  throw new Error("E2E_DATABASE must be a plain lower-case name and E2E_PORT a free port");
}
export const E2E_DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${E2E_DATABASE}`;
/** Known to the server-mode tests, so a load test can mint its shoppers' sessions. */
export const E2E_SESSION_SECRET = "e2e-session-secret-that-is-long-enough-0123456789";
/** Known to the counter tests, so they can sign a voucher the API cannot issue (an old one). */
export const E2E_VOUCHER_KEY_SECRET = "e2e-voucher-key-secret-that-is-long-enough-012345";

/**
 * End-to-end tests drive Debian's Chromium (never a downloaded browser) against the
 * production build: the storefront in embedded mode (PGlite in a fresh data folder, no
 * Redis), the counter app in server mode (a fresh Postgres database and Redis).
 */
export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/.output/results",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "embedded", testIgnore: ["merchant/**", "live/**", "admin/**", "security/**"] },
    {
      name: "server-mode",
      testMatch: ["merchant/**", "live/**", "admin/**", "security/**"],
      use: { baseURL: `http://127.0.0.1:${SERVER_MODE_PORT}` },
    },
  ],
  webServer: [
    {
      command: "rm -rf .data/e2e && node dist/server.mjs",
      url: `http://127.0.0.1:${PORT}/api/trpc/deals.list`,
      env: {
        HOSTNAME: "127.0.0.1",
        ENV_FILE: "none",
        DATA_DIR: ".data/e2e",
        DATABASE_URL: "",
        REDIS_URL: "",
        PORT: String(PORT),
        // The fixtures send each shopper's address in X-Forwarded-For, through this proxy hop.
        TRUSTED_PROXIES: "127.0.0.1",
        // Short enough for a test to watch a reservation expire and the sweep give it back.
        PRICED_RESERVATION_MS: "6000",
        RECONCILE_INTERVAL_MS: "1000",
      },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
    },
    {
      command:
        `psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${E2E_DATABASE} WITH (FORCE)" -c "CREATE DATABASE ${E2E_DATABASE}" postgres` +
        " && node dist/server.mjs",
      url: `http://127.0.0.1:${SERVER_MODE_PORT}/api/trpc/deals.list`,
      env: {
        HOSTNAME: "127.0.0.1",
        ENV_FILE: "none",
        DATABASE_URL: E2E_DATABASE_URL,
        REDIS_URL: "redis://127.0.0.1:6379",
        // A prefix per run: rate-limit windows and gates from an earlier run do not carry over.
        REDIS_KEY_PREFIX: `e2e${Date.now().toString(36)}:`,
        PORT: String(SERVER_MODE_PORT),
        TRUSTED_PROXIES: "127.0.0.1",
        SESSION_SECRET: E2E_SESSION_SECRET,
        // The counter and sale specs sign in as the demo city's staff and admin; a demo asked
        // for out loud is also what lets a production start use the test payment provider.
        DEMO_SEED: "on",
        VOUCHER_KEY_SECRET: E2E_VOUCHER_KEY_SECRET,
      },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
    },
  ],
});

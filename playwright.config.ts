import { defineConfig } from "@playwright/test";

const PORT = 3100;

/**
 * End-to-end tests drive Debian's Chromium (never a downloaded browser) against the
 * production build in embedded mode: PGlite in a fresh data folder, no Redis.
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
  webServer: {
    command: `rm -rf .data/e2e && node node_modules/next/dist/bin/next start -p ${PORT} -H 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/api/trpc/deals.list`,
    env: { DATA_DIR: ".data/e2e", DATABASE_URL: "", REDIS_URL: "", PORT: String(PORT) },
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
  },
});

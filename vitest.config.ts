import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@": import.meta.dirname,
      // `server-only` throws outside Next's server bundles; tests are server code too.
      "server-only": path.join(import.meta.dirname, "testing/server-only-stub.ts"),
    },
  },
  test: {
    include: ["{server,lib,db,app}/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Every process a test starts inherits this: a developer's .env never reaches a test.
    env: { ENV_FILE: "none" },
  },
});

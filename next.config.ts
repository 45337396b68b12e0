import { withSerwist } from "@serwist/turbopack";
import type { NextConfig } from "next";
import { EnvError, parseEnv } from "./server/env";

// Fail fast, with one line per bad value, before anything else starts.
try {
  parseEnv();
} catch (error) {
  if (error instanceof EnvError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const nextConfig: NextConfig = {
  serverExternalPackages: ["@electric-sql/pglite", "pino", "ioredis", "postgres", "prom-client"],
  poweredByHeader: false,
};

export default withSerwist(nextConfig);

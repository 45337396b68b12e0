import { freePort, type Running, startProcess, waitForHttp } from "./processes";
import { UNUSED_STRIPE_ENV } from "./production-payments";
import type { TestDatabase } from "./test-database";
import { TEST_REDIS_URL } from "./test-redis";

export interface ClaimServerProcess {
  baseUrl: string;
  /** "127.0.0.1:port", as a proxy's configuration names it. */
  hostPort: string;
  running: Running;
}

/**
 * The claim server (server/http/claim-server.ts) as deployed: a process of its own in
 * production mode, on a free loopback port, on the test's database and Redis prefix, trusting
 * 127.0.0.1 as its proxy. `env` adds to or overrides that (CLAIM_WORKERS, limits, ...).
 */
export async function startClaimServer(options: {
  database: TestDatabase;
  redisPrefix: string;
  sessionSecret: string;
  env?: Record<string, string>;
}): Promise<ClaimServerProcess> {
  const port = await freePort();
  const running = startProcess(
    "node",
    ["--import", "tsx", "--conditions=react-server", "server/http/claim-server.ts"],
    {
      NODE_ENV: "production",
      HOSTNAME: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: options.database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: options.redisPrefix,
      SESSION_SECRET: options.sessionSecret,
      VOUCHER_KEY_SECRET: options.sessionSecret,
      TRUSTED_PROXIES: "127.0.0.1",
      DEMO_SEED: "off",
      ...UNUSED_STRIPE_ENV,
      LOG_LEVEL: "warn",
      ...options.env,
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/healthz`, running, 90_000);
  return { baseUrl, hostPort: `127.0.0.1:${port}`, running };
}

import { z } from "zod";
import { parseProxyTrust } from "./http/proxy-trust";

const optionalUrl = (protocols: string[], example: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === "" ? undefined : value))
    .refine(
      (value) => value === undefined || protocols.some((p) => value.startsWith(`${p}://`)),
      `must be a URL starting with ${protocols.map((p) => `${p}://`).join(" or ")} (for example ${example}), or unset for embedded mode`,
    );

/** "host:port", the form redis-cli and CLUSTER NODES use. */
const HOST_PORT = /^([^\s:,]+):(\d{1,5})$/;

/**
 * A Redis Cluster's nodes, "host:port" separated by commas. One reachable master is enough
 * for the client to learn the rest; listing them all lets it start with any one down.
 */
const clusterNodes = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (!value) return undefined;
    const nodes: { host: string; port: number }[] = [];
    for (const entry of value.split(",")) {
      const [, host, port] = HOST_PORT.exec(entry.trim()) ?? [];
      if (!host || !(Number(port) >= 1 && Number(port) <= 65_535)) {
        ctx.addIssue({
          code: "custom",
          message: `must list the cluster's nodes as host:port separated by commas (for example 127.0.0.1:7001,127.0.0.1:7002), or be unset; "${entry.trim()}" is not host:port`,
        });
        return z.NEVER;
      }
      nodes.push({ host, port: Number(port) });
    }
    return nodes;
  });

/** The payment providers Dealdrop can run with; each has a factory in server/payments/providers/registry.ts. */
export const PAYMENT_PROVIDER_NAMES = ["test", "stripe"] as const;

/** A Stripe credential of one kind: its documented prefix, then letters, digits and '_'. */
const stripeKey = (prefixes: string[], what: string, example: string) =>
  z
    .string()
    .trim()
    .regex(
      new RegExp(`^(${prefixes.join("|")})[A-Za-z0-9_]+$`),
      `must be ${what} from the Stripe dashboard (${example}…)`,
    )
    .optional();

const durationMs = (fallback: number) =>
  z.coerce
    .number({ error: "must be a number of milliseconds" })
    .int("must be a whole number of milliseconds")
    .positive("must be greater than 0")
    .default(fallback);

const streamCap = (fallback: number) =>
  z.coerce
    .number({ error: "must be a number of streams" })
    .int("must be a whole number of streams")
    .min(1, "must be at least 1")
    .max(10_000, "must be at most 10000")
    .default(fallback);

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    DATABASE_URL: optionalUrl(["postgres", "postgresql"], "postgres://127.0.0.1:5432/dealdrop"),
    /**
     * A streaming replica of DATABASE_URL for discovery and deal reads (server/deals/read-replica.ts):
     * never written to; the primary serves the reads while it lags or is down.
     */
    DATABASE_READ_URL: optionalUrl(
      ["postgres", "postgresql"],
      "postgres://127.0.0.1:5433/dealdrop",
    ),
    /** How far behind the primary the replica may be and still serve reads. */
    DATABASE_READ_MAX_LAG_MS: durationMs(5_000),
    REDIS_URL: optionalUrl(["redis", "rediss"], "redis://127.0.0.1:6379"),
    REDIS_CLUSTER_NODES: clusterNodes,
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{0,32}$/, "may hold letters, digits, ':', '_' and '-' (at most 32)")
      .default("dd:"),
    DATA_DIR: z.string().min(1, "must name a folder").default(".data"),
    SESSION_SECRET: z
      .string()
      .min(32, "must be at least 32 characters (try: openssl rand -base64 48)")
      .optional(),
    VOUCHER_KEY_SECRET: z
      .string()
      .min(32, "must be at least 32 characters (try: openssl rand -base64 48)")
      .optional(),
    VOUCHER_KEY_LEAD_MS: durationMs(48 * 3_600_000),
    VOUCHER_CLOCK_SKEW_SECONDS: z.coerce
      .number({ error: "must be a number of seconds" })
      .int("must be a whole number of seconds")
      .min(0, "must be 0 or more")
      .max(3_600, "must be at most 3600 (an hour)")
      .default(120),
    DEVICE_TRUST_MAX_AGE_MS: durationMs(24 * 3_600_000),
    PAYMENT_TIMEOUT_MS: durationMs(5_000),
    PAYMENT_PROVIDER: z
      .enum(
        PAYMENT_PROVIDER_NAMES,
        "must be 'test' (the built-in test cards; embedded and demo mode only) or 'stripe'",
      )
      .default("test"),
    STRIPE_SECRET_KEY: stripeKey(
      ["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
      "a secret or restricted key",
      "sk_live_",
    ),
    STRIPE_PUBLISHABLE_KEY: stripeKey(["pk_live_", "pk_test_"], "a publishable key", "pk_live_"),
    STRIPE_WEBHOOK_SECRET: stripeKey(["whsec_"], "the webhook endpoint's signing secret", "whsec_"),
    /** Where the Stripe API is, when not Stripe itself: a local stand-in such as stripe-mock. */
    STRIPE_API_URL: z
      .url({
        protocol: /^https?$/,
        error: "must be an http:// or https:// URL, or unset for Stripe itself",
      })
      .optional(),
    /** How long the built-in test provider takes to answer for the `slow` test card. */
    TEST_PAYMENT_SLOW_MS: durationMs(8_000),
    PUBLIC_URL: z.url("must be an absolute URL such as http://localhost:3000").optional(),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    /** See server/auth/demo-accounts.ts: `auto` never seeds a Postgres database. */
    DEMO_SEED: z
      .enum(
        ["auto", "on", "off"],
        "must be 'auto' (seed an empty embedded database, never Postgres), 'on' (seed an empty database, Postgres too: a demo, never production) or 'off'",
      )
      .default("auto"),
    CLAIM_PENDING_GRACE_MS: durationMs(30_000),
    RECONCILE_INTERVAL_MS: durationMs(5_000),
    PRICED_RESERVATION_MS: durationMs(10 * 60_000),
    /** When set, `/api/metrics` answers only `Authorization: Bearer <this token>`. */
    METRICS_TOKEN: z
      .string()
      .min(16, "must be at least 16 characters when set (try: openssl rand -hex 24)")
      .optional(),
    /**
     * Processes the claim server (`npm run start:claims`) runs, one per core to use: see
     * server/http/claim-workers.ts. More than one needs Postgres and Redis.
     */
    CLAIM_WORKERS: z.coerce
      .number({ error: "must be a number of processes" })
      .int("must be a whole number of processes")
      .min(1, "must be at least 1")
      .max(64, "must be at most 64")
      .default(1),
    /**
     * The proxies whose X-Forwarded-For the server believes (server/http/client-address.ts):
     * their addresses or CIDR ranges, or a hop count. Unset: nobody's.
     */
    TRUSTED_PROXIES: z
      .string()
      .optional()
      .transform((value, ctx) => {
        try {
          return parseProxyTrust(value);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
          return z.NEVER;
        }
      }),
    /**
     * On SIGTERM, how long a server lets the requests in hand finish before it cuts them
     * (server/http/graceful-stop.ts). Winners still being written are settled after that.
     */
    DRAIN_TIMEOUT_MS: z.coerce
      .number({ error: "must be a number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .min(0, "must be 0 or more")
      .max(600_000, "must be at most 600000 (10 minutes)")
      .default(10_000),
    /** The largest request body read on any route but the claim route (which takes 4 KB). */
    HTTP_MAX_BODY_BYTES: z.coerce
      .number({ error: "must be a number of bytes" })
      .int("must be a whole number of bytes")
      .min(4_096, "must be at least 4096")
      .max(64 * 1_048_576, "must be at most 67108864 (64 MB)")
      .default(262_144),
    /** Live streams (stock, sale monitor) one address may hold open on one process. */
    STREAMS_PER_ADDRESS: streamCap(20),
    /** The same for one signed-in account, over all its sessions. */
    STREAMS_PER_ACCOUNT: streamCap(5),
    /**
     * Claim attempts per minute from one address or account past which a proof of work is
     * asked (server/bots): "off", or a number. Unset: 100 in production, off otherwise.
     */
    BOT_CHALLENGE_PER_MINUTE: z
      .string()
      .trim()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === "") return undefined;
        if (value === "off") return "off" as const;
        const attempts = Number(value);
        if (Number.isInteger(attempts) && attempts >= 1) return attempts;
        ctx.addIssue({
          code: "custom",
          message: `must be "off" or a whole number of attempts a minute (at least 1), not "${value}"`,
        });
        return z.NEVER;
      }),
    /** The puzzle's size: a client hashes about half this many times to solve it. */
    BOT_CHALLENGE_COST: z.coerce
      .number({ error: "must be a number of hashes" })
      .int("must be a whole number of hashes")
      .min(1_000, "must be at least 1000")
      .max(10_000_000, "must be at most 10000000 (a phone would take minutes)")
      .default(100_000),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    /** How log lines are written (server/log.ts). Unset: pretty with NODE_ENV=development, else JSON. */
    LOG_FORMAT: z
      .enum(
        ["pretty", "json"],
        "must be 'pretty' (coloured lines for people) or 'json' (one object a line)",
      )
      .optional(),
    /** The file read into the environment at start (server/env-file.ts); `none` reads none. */
    ENV_FILE: z.string().trim().optional(),
    /** The address the servers listen on. Unset: every interface (0.0.0.0). */
    HOSTNAME: z.string().trim().optional(),
  })
  .refine((env) => !env.DATABASE_READ_URL || env.DATABASE_URL, {
    path: ["DATABASE_READ_URL"],
    message:
      "needs DATABASE_URL: it names a replica of that Postgres (the embedded database has none)",
  })
  .refine((env) => !(env.REDIS_URL && env.REDIS_CLUSTER_NODES), {
    path: ["REDIS_CLUSTER_NODES"],
    message:
      "cannot be set together with REDIS_URL: set REDIS_URL for one Redis server, or REDIS_CLUSTER_NODES for a cluster",
  })
  .refine((env) => env.CLAIM_WORKERS === 1 || (env.DATABASE_URL && !embeddedGate(env)), {
    path: ["CLAIM_WORKERS"],
    message:
      "above 1 needs DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES): the embedded database and gate live in one process",
  })
  .superRefine((env, ctx) => {
    if (env.PAYMENT_PROVIDER !== "stripe") return;
    for (const name of [
      "STRIPE_SECRET_KEY",
      "STRIPE_PUBLISHABLE_KEY",
      "STRIPE_WEBHOOK_SECRET",
    ] as const) {
      if (!env[name]) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "is required with PAYMENT_PROVIDER=stripe (see the README's Payments section)",
        });
      }
    }
  })
  .refine(
    // A generated secret would sit in the same database as the keys it protects: acceptable
    // for a demo on one machine, not for a production deployment.
    (env) => !(env.NODE_ENV === "production" && env.DATABASE_URL && !env.VOUCHER_KEY_SECRET),
    {
      path: ["VOUCHER_KEY_SECRET"],
      message:
        "is required with DATABASE_URL in production: it encrypts the voucher signing keys (try: openssl rand -base64 48)",
    },
  );

export type Env = z.infer<typeof envSchema>;

/** Attempts a minute past which a proof of work is asked, or null when the check is off. */
export function botChallengeThreshold(env: Env): number | null {
  const configured = env.BOT_CHALLENGE_PER_MINUTE ?? (env.NODE_ENV === "production" ? 100 : "off");
  return configured === "off" ? null : configured;
}

function embeddedGate(env: { REDIS_URL?: string; REDIS_CLUSTER_NODES?: unknown }): boolean {
  return !env.REDIS_URL && !env.REDIS_CLUSTER_NODES;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/**
 * A real deployment: Postgres, NODE_ENV=production, and nobody asked for a demo with
 * DEMO_SEED=on (`auto` never seeds Postgres, so it does not count as asking). The test payment
 * provider approves whatever card the browser names, so it is refused here: the one place this
 * rule lives.
 */
export function isProductionWithoutDemo(
  env: Pick<Env, "NODE_ENV" | "DATABASE_URL" | "DEMO_SEED">,
): boolean {
  const demoAsked = env.DEMO_SEED === "on";
  return env.NODE_ENV === "production" && Boolean(env.DATABASE_URL) && !demoAsked;
}

/** Validates the environment once; every bad value is named with what was expected. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) {
    if (result.data.PAYMENT_PROVIDER === "test" && isProductionWithoutDemo(result.data)) {
      throw new EnvError([
        "PAYMENT_PROVIDER: the test provider (the default) approves any card the browser names, so a production start (NODE_ENV=production with DATABASE_URL) refuses it: set PAYMENT_PROVIDER=stripe with its keys, or DEMO_SEED=on for a demo",
      ]);
    }
    return result.data;
  }
  throw new EnvError(
    result.error.issues.map((issue) => `${issue.path.join(".") || "(env)"}: ${issue.message}`),
  );
}

export function describeMode(env: Env): string {
  const db = env.DATABASE_URL ? "Postgres" : `embedded PGlite (${env.DATA_DIR}/pglite)`;
  const gate = env.REDIS_CLUSTER_NODES
    ? `Redis Cluster gate (${env.REDIS_CLUSTER_NODES.length} nodes listed)`
    : env.REDIS_URL
      ? "Redis gate"
      : "embedded Postgres gate (no Redis)";
  const payments =
    env.PAYMENT_PROVIDER === "test"
      ? "test payments (test cards, no money)"
      : `${env.PAYMENT_PROVIDER} payments`;
  return `${db}, ${gate}, ${payments}`;
}

import { describe, expect, it } from "vitest";
import { botChallengeThreshold, EnvError, parseEnv } from "./env";

/** A production deployment's payment settings: the test provider is refused there. */
const stripeKeys = {
  PAYMENT_PROVIDER: "stripe",
  STRIPE_SECRET_KEY: "sk_live_51Habc",
  STRIPE_PUBLISHABLE_KEY: "pk_live_51Habc",
  STRIPE_WEBHOOK_SECRET: "whsec_abc123",
};

describe("configuration", () => {
  it("starts in embedded mode with nothing set", () => {
    const env = parseEnv({});
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env).toMatchObject({ DATA_DIR: ".data", DEMO_SEED: "auto", REDIS_KEY_PREFIX: "dd:" });
  });

  it("names every bad value with what was expected", () => {
    let error: unknown;
    try {
      parseEnv({
        DATABASE_URL: "mysql://localhost/db",
        REDIS_URL: "localhost:6379",
        SESSION_SECRET: "short",
        CLAIM_PENDING_GRACE_MS: "soon",
        DEMO_SEED: "yes",
        METRICS_TOKEN: "short",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems.join("\n");
    expect(problems).toContain("DATABASE_URL: must be a URL starting with postgres://");
    expect(problems).toContain("REDIS_URL: must be a URL starting with redis://");
    expect(problems).toContain("SESSION_SECRET: must be at least 32 characters");
    expect(problems).toContain("CLAIM_PENDING_GRACE_MS: must be a number of milliseconds");
    expect(problems).toContain("DEMO_SEED: must be 'auto'");
    expect(problems).toContain("METRICS_TOKEN: must be at least 16 characters when set");
  });

  it("takes a Redis Cluster's nodes as host:port pairs, instead of REDIS_URL", () => {
    expect(
      parseEnv({ REDIS_CLUSTER_NODES: " 127.0.0.1:7001, redis-b:7002" }).REDIS_CLUSTER_NODES,
    ).toEqual([
      { host: "127.0.0.1", port: 7001 },
      { host: "redis-b", port: 7002 },
    ]);
    expect(parseEnv({ REDIS_CLUSTER_NODES: "" }).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(() =>
      parseEnv({ REDIS_CLUSTER_NODES: "127.0.0.1:7001,redis://127.0.0.1:7002" }),
    ).toThrow(
      /REDIS_CLUSTER_NODES: must list the cluster's nodes as host:port .*"redis:\/\/127.0.0.1:7002" is not host:port/,
    );
    expect(() => parseEnv({ REDIS_CLUSTER_NODES: "127.0.0.1:70000" })).toThrow(
      /REDIS_CLUSTER_NODES: must list/,
    );
    expect(() =>
      parseEnv({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_CLUSTER_NODES: "127.0.0.1:7001" }),
    ).toThrow(/REDIS_CLUSTER_NODES: cannot be set together with REDIS_URL/);
  });

  it("requires a voucher key secret for a production Postgres deployment only", () => {
    const production = {
      NODE_ENV: "production",
      DATABASE_URL: "postgres://127.0.0.1/dd",
      ...stripeKeys,
    };
    expect(() => parseEnv(production)).toThrow(/VOUCHER_KEY_SECRET: is required with DATABASE_URL/);
    expect(parseEnv({ ...production, VOUCHER_KEY_SECRET: "x".repeat(32) }).NODE_ENV).toBe(
      "production",
    );
    expect(parseEnv({ NODE_ENV: "production" }).VOUCHER_KEY_SECRET).toBeUndefined();
  });

  it("takes a read replica only beside DATABASE_URL, with a lag bound of 5 s unless told", () => {
    expect(() => parseEnv({ DATABASE_READ_URL: "postgres://127.0.0.1:5433/dd" })).toThrow(
      /DATABASE_READ_URL: needs DATABASE_URL/,
    );
    const env = parseEnv({
      DATABASE_URL: "postgres://127.0.0.1/dd",
      DATABASE_READ_URL: "postgres://127.0.0.1:5433/dd",
    });
    expect(env).toMatchObject({ DATABASE_READ_MAX_LAG_MS: 5_000 });
    expect(() => parseEnv({ DATABASE_READ_URL: "mysql://x/dd" })).toThrow(
      /DATABASE_READ_URL: must be a URL starting with postgres:\/\//,
    );
  });

  it("caps live streams per address and per account, 20 and 5 unless told", () => {
    expect(parseEnv({})).toMatchObject({ STREAMS_PER_ADDRESS: 20, STREAMS_PER_ACCOUNT: 5 });
    expect(parseEnv({ STREAMS_PER_ADDRESS: "200" }).STREAMS_PER_ADDRESS).toBe(200);
    expect(() => parseEnv({ STREAMS_PER_ADDRESS: "many" })).toThrow(
      /STREAMS_PER_ADDRESS: must be a number of streams/,
    );
    expect(() => parseEnv({ STREAMS_PER_ACCOUNT: "0" })).toThrow(
      /STREAMS_PER_ACCOUNT: must be at least 1/,
    );
  });

  it("gives a stopping server 10 s to drain unless told, and says what a bad deadline is", () => {
    expect(parseEnv({}).DRAIN_TIMEOUT_MS).toBe(10_000);
    expect(parseEnv({ DRAIN_TIMEOUT_MS: "30000" }).DRAIN_TIMEOUT_MS).toBe(30_000);
    expect(() => parseEnv({ DRAIN_TIMEOUT_MS: "soon" })).toThrow(
      /DRAIN_TIMEOUT_MS: must be a number of milliseconds/,
    );
    expect(() => parseEnv({ DRAIN_TIMEOUT_MS: "-1" })).toThrow(
      /DRAIN_TIMEOUT_MS: must be 0 or more/,
    );
    expect(() => parseEnv({ DRAIN_TIMEOUT_MS: "3600000" })).toThrow(
      /DRAIN_TIMEOUT_MS: must be at most 600000/,
    );
  });

  it("asks a proof of work past 100 claim attempts a minute in production, and not elsewhere unless told", () => {
    const production = { NODE_ENV: "production", VOUCHER_KEY_SECRET: "x".repeat(32) };
    expect(botChallengeThreshold(parseEnv(production))).toBe(100);
    expect(botChallengeThreshold(parseEnv({}))).toBeNull();
    expect(botChallengeThreshold(parseEnv({ BOT_CHALLENGE_PER_MINUTE: "30" }))).toBe(30);
    expect(
      botChallengeThreshold(parseEnv({ ...production, BOT_CHALLENGE_PER_MINUTE: "off" })),
    ).toBeNull();
    expect(() => parseEnv({ BOT_CHALLENGE_PER_MINUTE: "lots" })).toThrow(
      /BOT_CHALLENGE_PER_MINUTE: must be "off" or a whole number/,
    );
    expect(() => parseEnv({ BOT_CHALLENGE_COST: "100" })).toThrow(
      /BOT_CHALLENGE_COST: must be at least 1000/,
    );
  });

  describe("payment provider", () => {
    const production = {
      NODE_ENV: "production",
      DATABASE_URL: "postgres://127.0.0.1/dd",
      VOUCHER_KEY_SECRET: "x".repeat(32),
    };
    const problemsOf = (source: Record<string, string>) => {
      try {
        parseEnv(source);
      } catch (error) {
        if (error instanceof EnvError) return error.problems;
        throw error;
      }
      return [];
    };

    it("refuses a production start with the test provider, in one line, unless a demo is asked for", () => {
      const refused = problemsOf(production);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatch(
        /^PAYMENT_PROVIDER: the test provider .* approves any card the browser names, so a production start .* refuses it: set PAYMENT_PROVIDER=stripe/,
      );
      expect(problemsOf({ ...production, PAYMENT_PROVIDER: "test" })).toEqual(refused);
      // Only DEMO_SEED=on asks for a demo: `auto` never seeds Postgres, and `off` is no demo.
      expect(problemsOf({ ...production, DEMO_SEED: "off" })).toEqual(refused);
      expect(problemsOf({ ...production, DEMO_SEED: "auto" })).toEqual(refused);
      expect(parseEnv({ ...production, DEMO_SEED: "on" }).PAYMENT_PROVIDER).toBe("test");
      // Embedded mode, and Postgres outside production, keep the test cards.
      expect(parseEnv({ NODE_ENV: "production" }).PAYMENT_PROVIDER).toBe("test");
      expect(parseEnv({ DATABASE_URL: production.DATABASE_URL }).PAYMENT_PROVIDER).toBe("test");
      expect(parseEnv({ ...production, ...stripeKeys })).toMatchObject({
        PAYMENT_PROVIDER: "stripe",
        STRIPE_SECRET_KEY: stripeKeys.STRIPE_SECRET_KEY,
      });
    });

    it("names the provider's missing or malformed settings", () => {
      expect(problemsOf({ PAYMENT_PROVIDER: "paypal" })).toEqual([
        "PAYMENT_PROVIDER: must be 'test' (the built-in test cards; embedded and demo mode only) or 'stripe'",
      ]);
      expect(problemsOf({ PAYMENT_PROVIDER: "stripe" })).toEqual(
        ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"].map(
          (name) =>
            `${name}: is required with PAYMENT_PROVIDER=stripe (see the README's Payments section)`,
        ),
      );
      const swapped = problemsOf({
        PAYMENT_PROVIDER: "stripe",
        STRIPE_SECRET_KEY: stripeKeys.STRIPE_PUBLISHABLE_KEY,
        STRIPE_PUBLISHABLE_KEY: stripeKeys.STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: "secret",
        STRIPE_API_URL: "ftp://127.0.0.1",
      });
      expect(swapped).toEqual([
        "STRIPE_SECRET_KEY: must be a secret or restricted key from the Stripe dashboard (sk_live_…)",
        "STRIPE_PUBLISHABLE_KEY: must be a publishable key from the Stripe dashboard (pk_live_…)",
        "STRIPE_WEBHOOK_SECRET: must be the webhook endpoint's signing secret from the Stripe dashboard (whsec_…)",
        "STRIPE_API_URL: must be an http:// or https:// URL, or unset for Stripe itself",
      ]);
    });
  });
});

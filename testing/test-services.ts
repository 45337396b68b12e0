import { afterAll, beforeAll } from "vitest";
import { parseEnv } from "@/server/env";
import { createServices, type Services } from "@/testing/wired-services";
import { countingLogger } from "./query-count";
import { createTestDatabase, type TestDatabase } from "./test-database";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "./test-redis";

export interface TestServices {
  database: TestDatabase;
  services: Services;
  /** Set when the services were asked for Redis: the connection and its key prefix. */
  redis?: TestRedis;
}

/**
 * Services over a scratch database (and Redis under a prefix of its own, with `redis`),
 * made before the file's tests and stopped after. Read the fields inside tests: they are
 * set once `beforeAll` has run.
 */
export function withTestServices(
  options: { env?: Record<string, string>; redis?: boolean; clock?: () => Date } = {},
): TestServices {
  const world = {} as TestServices;
  beforeAll(async () => {
    world.database = await createTestDatabase();
    world.redis = options.redis ? (createTestRedis() as TestRedis) : undefined;
    const redisEnv = world.redis
      ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: world.redis.prefix }
      : {};
    world.services = await createServices(
      parseEnv({ DATABASE_URL: world.database.url, DEMO_SEED: "off", ...redisEnv, ...options.env }),
      { clock: options.clock, queryLogger: countingLogger },
    );
  });
  afterAll(async () => {
    await world.services?.stop();
    await world.redis?.cleanUp();
    await world.database?.drop();
  });
  return world;
}

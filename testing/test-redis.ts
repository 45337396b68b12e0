import type { Redis } from "ioredis";
import { newId } from "@/lib/ids";
import { createRedis } from "@/server/redis/client";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis connection and a key prefix of its own, so test files never see each other's keys. */
export function createTestRedis(options: { db?: number } = {}) {
  const redis = createRedis(TEST_REDIS_URL, options);
  const prefix = `test:${newId()}:`;
  return {
    redis,
    prefix,
    async cleanUp() {
      const stream = redis.scanStream({ match: `${prefix}*`, count: 500 });
      for await (const keys of stream as AsyncIterable<string[]>) {
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
    },
  };
}

export type TestRedis = ReturnType<typeof createTestRedis> & { redis: Redis };

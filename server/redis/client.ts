import "server-only";
import { Redis } from "ioredis";

/**
 * Auto-pipelining sends the commands of many concurrent requests in one write, which is what
 * lets one connection carry a flash sale's burst of gate calls.
 */
export function createRedis(url: string, options: { db?: number } = {}): Redis {
  return new Redis(url, {
    db: options.db,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    lazyConnect: false,
  });
}

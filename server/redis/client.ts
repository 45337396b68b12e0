import "server-only";
import { Cluster, Redis } from "ioredis";
import type { Env } from "../env";
import { log } from "../log";

/**
 * One Redis server or a Redis Cluster. Both speak the same commands, so the app's Redis users
 * take either; what differs on a Cluster is that a command, a script or a pipeline may only
 * touch keys of one hash slot (each deal's keys share the `{deal:ID}` tag for that).
 */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/** A command fails after this many reconnect attempts rather than waiting for Redis. */
const MAX_RETRIES_PER_REQUEST = 2;
const CLUSTER_READY_TIMEOUT_MS = 10_000;

/** The Redis the configuration names: a Cluster, one server, or none (the embedded gate). */
export async function connectConfiguredRedis(
  env: Pick<Env, "REDIS_URL" | "REDIS_CLUSTER_NODES">,
): Promise<RedisClient | null> {
  if (env.REDIS_CLUSTER_NODES) return connectRedisCluster(env.REDIS_CLUSTER_NODES);
  return env.REDIS_URL ? createRedis(env.REDIS_URL) : null;
}

/**
 * Auto-pipelining sends the commands of many concurrent requests in one write, which is what
 * lets one connection carry a flash sale's burst of gate calls.
 *
 * Commands made before the first connection wait for it (the offline queue). Once connected,
 * the queue is switched off: while Redis is away a command fails at once, so a shopper is told
 * UNAVAILABLE with a retry delay instead of waiting out ioredis's reconnect backoff (which
 * stretched claims to 10–15 s in server/faults/redis-faults.test.ts).
 */
export function createRedis(url: string, options: { db?: number } = {}): Redis {
  const redis = new Redis(url, {
    db: options.db,
    enableAutoPipelining: true,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    lazyConnect: false,
  });
  redis.once("ready", () => {
    redis.options.enableOfflineQueue = false;
  });
  reportOutages(redis, `${redis.options.host}:${redis.options.port}`);
  return redis;
}

/**
 * One warning when a client loses Redis and one line when it is back, not one per retry (nor
 * one per claim: ClaimService leaves outages to this).
 */
function reportOutages(redis: RedisClient, where: string) {
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: error, redis: where }, "Redis unreachable: commands fail until it is back");
  });
  redis.on("ready", () => {
    if (down) log.info({ redis: where }, "Redis reachable again");
    down = false;
  });
}

/**
 * A Cluster client, resolved once it has the slot map and the cluster says it is ok.
 * Auto-pipelining batches per master. It fails fast like the single client: a command for a
 * master that stopped answering fails after two reconnect attempts, and while the client has
 * lost the whole cluster a command fails at once instead of queueing (no offline queue). With
 * no queue a command sent before the first connection would fail too, hence the wait here.
 */
export async function connectRedisCluster(nodes: RedisNode[]): Promise<Cluster> {
  const cluster = new Cluster(nodes, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST },
  });
  try {
    await readyWithin(cluster, CLUSTER_READY_TIMEOUT_MS);
    reportOutages(cluster, `cluster ${nodes.map((node) => `${node.host}:${node.port}`).join(",")}`);
    return cluster;
  } catch (error) {
    cluster.disconnect();
    const listed = nodes.map((node) => `${node.host}:${node.port}`).join(", ");
    throw new Error(
      `The Redis Cluster (${listed}) was not ready within ${CLUSTER_READY_TIMEOUT_MS} ms: ${(error as Error).message}`,
    );
  }
}

/** Resolves on "ready"; after `ms`, rejects with the last error the client met. */
function readyWithin(cluster: Cluster, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError = "no answer";
    const noteError = (error: Error) => {
      lastError = error.message;
    };
    const timer = setTimeout(() => {
      cluster.off("error", noteError);
      reject(new Error(lastError));
    }, ms);
    cluster.on("error", noteError);
    cluster.once("ready", () => {
      clearTimeout(timer);
      cluster.off("error", noteError);
      resolve();
    });
  });
}

/**
 * A second connection for SUBSCRIBE, which takes a connection over. It keeps an offline queue:
 * a subscription made while Redis is away is sent when it is back, as there is no caller
 * waiting to be told of a failure.
 */
export function duplicateForSubscribing(redis: RedisClient): RedisClient {
  if (redis instanceof Cluster) {
    return redis.duplicate([], { enableAutoPipelining: false, enableOfflineQueue: true });
  }
  const subscriber = redis.duplicate({ enableAutoPipelining: false, enableOfflineQueue: true });
  reportOutages(subscriber, `${subscriber.options.host}:${subscriber.options.port}`);
  return subscriber;
}

/** The masters that hold the data: the cluster's, or the one server. */
export function mastersOf(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes("master") : [redis];
}

import "server-only";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { mastersOf, type RedisClient } from "./client";

type LuaReply = string | number | null | LuaReply[];

/**
 * A Lua script read from its .lua file, called by SHA. Redis loses its script cache on a
 * restart or `SCRIPT FLUSH`; on NOSCRIPT we load it once more and call again. Each master of
 * a Cluster has a cache of its own, and `SCRIPT LOAD` carries no key to route it by, so the
 * script is loaded on every master.
 */
export class LuaScript {
  readonly sha: string;
  private readonly source: string;
  private loading: Promise<unknown> | null = null;

  constructor(readonly file: string) {
    this.source = readFileSync(path.join(/*turbopackIgnore: true*/ process.cwd(), file), "utf8");
    this.sha = createHash("sha1").update(this.source).digest("hex");
  }

  async run(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<LuaReply> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as LuaReply;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      // After a Redis restart every caller in flight meets NOSCRIPT; one load serves them all.
      this.loading ??= Promise.all(
        mastersOf(redis).map((master) => master.script("LOAD", this.source)),
      ).finally(() => {
        this.loading = null;
      });
      await this.loading;
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as LuaReply;
    }
  }
}

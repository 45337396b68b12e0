import "server-only";
import type { RedisClient } from "../redis/client";
import { gateKeys } from "./gate-keys";
import type { GateReadout } from "./gate-status";
import type { RedisGateLoader } from "./redis-gate-loader";

/** The Redis gate's own counts, read from its meta hash and pending set. */
export class RedisGateReadout implements GateReadout {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly loader: RedisGateLoader,
  ) {}

  async stock(dealId: string) {
    const [remaining, quantity] = await this.redis.hmget(
      gateKeys(this.keyPrefix, dealId).meta,
      "remaining",
      "quantity",
    );
    if (remaining === null || quantity === null) return null;
    return { remaining: Math.max(0, Number(remaining)), quantity: Number(quantity) };
  }

  async held(dealId: string) {
    const keys = gateKeys(this.keyPrefix, dealId);
    const remaining = await this.redis.hget(keys.meta, "remaining");
    const pending = await this.redis.zcard(keys.pending);
    return { remaining: remaining === null ? null : Number(remaining), pending };
  }

  async reload(dealId: string) {
    await this.loader.unload(dealId);
    await this.loader.ensureLoaded(dealId);
  }
}

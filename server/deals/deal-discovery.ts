import "server-only";
import { and, between, eq, gt } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { deals, merchants } from "@/db/schema";
import { boundingBox, distanceKm, type Point, pointSchema } from "@/lib/geo";
import { idSchema } from "@/lib/ids";
import type { ReadThroughCache } from "../cache/read-through-cache";
import { DomainError } from "../errors";
import { dealColumns, withRemaining } from "./deal-columns";

export const nearInputSchema = pointSchema.extend({
  radiusKm: z
    .number()
    .positive("radiusKm must be more than 0")
    .max(50, "radiusKm must be at most 50"),
});
export type NearInput = z.infer<typeof nearInputSchema>;
export const dealIdInput = z.object({ dealId: idSchema });

/** Entries are shared by shoppers within about 100 m: the centre is rounded to 3 decimals. */
const CELL_DECIMALS = 3;
/** Candidates are gathered a little wider than asked, so the rounding never drops a deal. */
const CELL_SLACK_KM = 0.2;

/**
 * What shoppers browse: deals near a point and one deal's details, read through the cache.
 * Stock shown here may lag by the cache's lifetime; the claim itself is decided by the gate.
 */
export class DealDiscovery {
  constructor(
    private readonly db: Db,
    private readonly cache: ReadThroughCache,
    private readonly clock: () => Date,
  ) {}

  /** Deals still on sale (or not yet started) within the radius, nearest first. */
  async near(input: NearInput) {
    const cell = {
      lat: Number(input.lat.toFixed(CELL_DECIMALS)),
      lng: Number(input.lng.toFixed(CELL_DECIMALS)),
    };
    const key = `near:${cell.lat}:${cell.lng}:${input.radiusKm}`;
    const candidates =
      (await this.cache.get(key, () => this.loadNear(cell, input.radiusKm + CELL_SLACK_KM))) ?? [];
    const now = this.clock();
    return candidates
      .filter((deal) => deal.endsAt > now)
      .map((deal) => ({ ...deal, distanceKm: distanceKm(input, deal) }))
      .filter((deal) => deal.distanceKm <= input.radiusKm)
      .sort((a, b) => a.distanceKm - b.distanceKm);
  }

  async byId(dealId: string) {
    const deal = await this.cache.get(`deal:${dealId}`, async () => {
      const [row] = await this.db
        .select(dealColumns)
        .from(deals)
        .innerJoin(merchants, eq(merchants.id, deals.merchantId))
        .where(eq(deals.id, dealId));
      return row ? withRemaining(row) : null;
    });
    if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
    return deal;
  }

  private async loadNear(center: Point, radiusKm: number) {
    const box = boundingBox(center, radiusKm);
    const rows = await this.db
      .select(dealColumns)
      .from(deals)
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(
        and(
          eq(deals.status, "active"),
          gt(deals.endsAt, this.clock()),
          between(deals.lat, box.minLat, box.maxLat),
          between(deals.lng, box.minLng, box.maxLng),
        ),
      );
    return rows.filter((row) => distanceKm(center, row) <= radiusKm).map(withRemaining);
  }
}

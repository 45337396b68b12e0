import "server-only";
import { and, between, eq, gt } from "drizzle-orm";
import { z } from "zod";
import { deals, merchants } from "@/db/schema";
import { boundingBox, distanceKm, type Point, pointSchema } from "@/lib/geo";
import { idSchema } from "@/lib/ids";
import type { ReadThroughCache } from "../cache/read-through-cache";
import { DomainError } from "../errors";
import { dealColumns, withRemaining } from "./deal-columns";
import { nearCell, RADIUS_STEPS_KM } from "./near-cell";
import type { ReadReplica } from "./read-replica";

const MAX_RADIUS_KM = RADIUS_STEPS_KM.at(-1) as number;

export const nearInputSchema = pointSchema.extend({
  radiusKm: z
    .number()
    .positive("radiusKm must be more than 0")
    .max(MAX_RADIUS_KM, `radiusKm must be at most ${MAX_RADIUS_KM}`),
});
export type NearInput = z.infer<typeof nearInputSchema>;
export const dealIdInput = z.object({ dealId: idSchema });

/**
 * What shoppers browse: deals near a point and one deal's details, read through the cache.
 * Stock shown here may lag by the cache's lifetime (and the replica's, within
 * DATABASE_READ_MAX_LAG_MS); the claim itself is decided by the gate.
 */
export class DealDiscovery {
  constructor(
    private readonly reads: ReadReplica,
    private readonly cache: ReadThroughCache,
    private readonly clock: () => Date,
  ) {}

  /** Deals still on sale (or not yet started) within the radius, nearest first. */
  async near(input: NearInput) {
    // Answered from a finite set of entries (see nearCell), then cut to the exact circle.
    const cell = nearCell(input, input.radiusKm);
    const candidates =
      (await this.cache.get(cell.key, () => this.loadNear(cell.center, cell.loadRadiusKm))) ?? [];
    const now = this.clock();
    return candidates
      .filter((deal) => deal.endsAt > now)
      .map((deal) => ({ ...deal, distanceKm: distanceKm(input, deal) }))
      .filter((deal) => deal.distanceKm <= input.radiusKm)
      .sort((a, b) => a.distanceKm - b.distanceKm);
  }

  async byId(dealId: string) {
    const deal = await this.cache.get(`deal:${dealId}`, async () => {
      const [row] = await this.reads.read((db) =>
        db
          .select(dealColumns)
          .from(deals)
          .innerJoin(merchants, eq(merchants.id, deals.merchantId))
          .where(eq(deals.id, dealId)),
      );
      return row ? withRemaining(row) : null;
    });
    if (!deal) throw new DomainError("NOT_FOUND", "No deal has this id.", { dealId });
    return deal;
  }

  private async loadNear(center: Point, radiusKm: number) {
    const box = boundingBox(center, radiusKm);
    const rows = await this.reads.read((db) =>
      db
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
        ),
    );
    return rows.filter((row) => distanceKm(center, row) <= radiusKm).map(withRemaining);
  }
}

import "server-only";
import { desc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { claims, deals, merchants } from "@/db/schema";
import type { ClaimInput, ClaimResult } from "@/lib/claims/claim-contract";
import type { ClaimEngine } from "./claim-engine";

/**
 * The claim use cases, free of HTTP and tRPC so that a lean HTTP route can call them as
 * they are. Authentication happened before (from the session cookie, without the database).
 */
export class ClaimService {
  constructor(
    private readonly engine: ClaimEngine,
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  claim(userId: string, input: ClaimInput): Promise<ClaimResult> {
    return this.engine.claim({ ...input, userId, now: this.clock() });
  }

  async mine(userId: string) {
    return this.db
      .select({
        claimId: claims.id,
        status: claims.status,
        reservedUntil: claims.reservedUntil,
        claimedAt: claims.createdAt,
        dealId: deals.id,
        dealTitle: deals.title,
        priceCents: deals.priceCents,
        currency: deals.currency,
        merchantName: merchants.name,
      })
      .from(claims)
      .innerJoin(deals, eq(deals.id, claims.dealId))
      .innerJoin(merchants, eq(merchants.id, deals.merchantId))
      .where(eq(claims.userId, userId))
      .orderBy(desc(claims.createdAt));
  }
}

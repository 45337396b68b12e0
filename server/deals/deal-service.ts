import "server-only";
import { and, asc, desc, eq, gt } from "drizzle-orm";
import type { Db } from "@/db/client";
import { deals, merchants } from "@/db/schema";
import { dealColumns, withRemaining } from "./deal-columns";
import { ReadReplica } from "./read-replica";

export class DealService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
    private readonly reads = ReadReplica.primaryOnly(db),
  ) {}

  /**
   * Active deals whose sale has not ended, soonest first, with stock as Postgres counts it
   * (on the read replica while it keeps up).
   */
  async listOpen() {
    const rows = await this.reads.read((db) =>
      db
        .select(dealColumns)
        .from(deals)
        .innerJoin(merchants, eq(merchants.id, deals.merchantId))
        .where(and(eq(deals.status, "active"), gt(deals.endsAt, this.clock())))
        .orderBy(asc(deals.startsAt)),
    );
    return rows.map(withRemaining);
  }

  /** Every deal of one merchant, newest sale first, for its staff. */
  async listForMerchant(merchantId: string) {
    return this.db
      .select({
        id: deals.id,
        title: deals.title,
        status: deals.status,
        quantity: deals.quantity,
        sold: deals.sold,
        priceCents: deals.priceCents,
        startsAt: deals.startsAt,
        endsAt: deals.endsAt,
      })
      .from(deals)
      .where(eq(deals.merchantId, merchantId))
      .orderBy(desc(deals.startsAt));
  }
}

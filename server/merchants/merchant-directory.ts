import "server-only";
import { asc, count, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { deals, merchantDevices, merchants, staffInvites, users } from "@/db/schema";
import { newId } from "@/lib/ids";
import type { MerchantFields } from "@/lib/merchants/merchant-rules";
import { recordAudit } from "../audit/audit-log";
import type { Actor } from "../auth/actor";
import { DomainError } from "../errors";

/** Merchants as admins manage them: the shop, its place on the map, its staff. */
export class MerchantDirectory {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async list() {
    const staffCount = this.db
      .select({ merchantId: users.merchantId, n: count().as("staff_n") })
      .from(users)
      .groupBy(users.merchantId)
      .as("staff");
    const dealCount = this.db
      .select({ merchantId: deals.merchantId, n: count().as("deal_n") })
      .from(deals)
      .groupBy(deals.merchantId)
      .as("deal_counts");
    return this.db
      .select({
        id: merchants.id,
        name: merchants.name,
        address: merchants.address,
        lat: merchants.lat,
        lng: merchants.lng,
        staff: sql<number>`coalesce(${staffCount.n}, 0)::int`,
        deals: sql<number>`coalesce(${dealCount.n}, 0)::int`,
      })
      .from(merchants)
      .leftJoin(staffCount, eq(staffCount.merchantId, merchants.id))
      .leftJoin(dealCount, eq(dealCount.merchantId, merchants.id))
      .orderBy(asc(merchants.name));
  }

  /** The shop alone: name, address, place. */
  async shop(merchantId: string) {
    const [merchant] = await this.db.select().from(merchants).where(eq(merchants.id, merchantId));
    if (!merchant) throw new DomainError("NOT_FOUND", "No merchant has this id.", { merchantId });
    return merchant;
  }

  /** One merchant with its staff, open invitations and devices. */
  async get(merchantId: string) {
    const merchant = await this.shop(merchantId);
    const [staff, invites, devices] = await Promise.all([
      this.db
        .select({ userId: users.id, email: users.email, displayName: users.displayName })
        .from(users)
        .where(eq(users.merchantId, merchantId))
        .orderBy(asc(users.displayName)),
      this.db
        .select({
          inviteId: staffInvites.id,
          email: staffInvites.email,
          displayName: staffInvites.displayName,
          createdAt: staffInvites.createdAt,
          expiresAt: staffInvites.expiresAt,
          acceptedAt: staffInvites.acceptedAt,
          revokedAt: staffInvites.revokedAt,
        })
        .from(staffInvites)
        .where(eq(staffInvites.merchantId, merchantId))
        .orderBy(asc(staffInvites.createdAt)),
      this.db
        .select({ n: count() })
        .from(merchantDevices)
        .where(eq(merchantDevices.merchantId, merchantId)),
    ]);
    return { ...merchant, staff, invites, devices: devices[0]?.n ?? 0 };
  }

  async create(actor: Actor, fields: MerchantFields) {
    const id = newId();
    const now = this.clock();
    await this.db.transaction(async (tx) => {
      await tx.insert(merchants).values({ id, ...columnsOf(fields), createdAt: now });
      await recordAudit(
        tx,
        actor,
        {
          action: "merchant.create",
          targetType: "merchant",
          targetId: id,
          merchantId: id,
          details: { name: fields.name, address: fields.address },
        },
        now,
      );
    });
    return this.get(id);
  }

  /** Edits the shop; its deals keep their own locations. */
  async update(actor: Actor, merchantId: string, fields: MerchantFields) {
    const now = this.clock();
    await this.db.transaction(async (tx) => {
      const [before] = await tx
        .select()
        .from(merchants)
        .where(eq(merchants.id, merchantId))
        .for("update");
      if (!before) throw new DomainError("NOT_FOUND", "No merchant has this id.", { merchantId });
      await tx.update(merchants).set(columnsOf(fields)).where(eq(merchants.id, merchantId));
      await recordAudit(
        tx,
        actor,
        {
          action: "merchant.update",
          targetType: "merchant",
          targetId: merchantId,
          merchantId,
          details: {
            from: { name: before.name, address: before.address, lat: before.lat, lng: before.lng },
            to: { name: fields.name, address: fields.address, ...fields.location },
          },
        },
        now,
      );
    });
    return this.get(merchantId);
  }
}

function columnsOf(fields: MerchantFields) {
  return {
    name: fields.name,
    address: fields.address,
    lat: fields.location.lat,
    lng: fields.location.lng,
    timeZone: fields.timeZone,
  };
}

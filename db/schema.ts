import { sql } from "drizzle-orm";
import {
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const id = () => text("id").primaryKey();
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const userRole = pgEnum("user_role", ["shopper", "merchant", "admin"]);
export const claimStatus = pgEnum("claim_status", [
  "reserved",
  "confirmed",
  "cancelled",
  "expired",
]);
export const dealStatus = pgEnum("deal_status", ["active", "cancelled"]);
export const signingKeyStatus = pgEnum("signing_key_status", ["next", "active", "retired"]);
export const paymentStatus = pgEnum("payment_status", [
  "pending",
  "approved",
  "declined",
  "refunded",
  "failed",
]);
/**
 * A synced redemption whose device-given time cannot be true: before its voucher was issued,
 * or after the server received it (each beyond the clock-skew allowance). Kept and shown.
 */
export const redemptionClockFlag = pgEnum("redemption_clock_flag", [
  "before_issue",
  "after_receipt",
]);

/**
 * Why a synced redemption is kept as a conflict instead of counting: its voucher was redeemed
 * first elsewhere, or it had been cancelled (its unit given back, a payment refunded) before
 * the redemption reached the server.
 */
export const redemptionConflictKind = pgEnum("redemption_conflict_kind", [
  "redeemed_twice",
  "redeemed_after_cancellation",
]);

/** Claim statuses that hold a unit of stock. */
export const ACTIVE_CLAIM_STATUSES = ["reserved", "confirmed"] as const;

export const merchants = pgTable("merchants", {
  id: id(),
  name: text("name").notNull(),
  address: text("address").notNull(),
  lat: doublePrecision("lat").notNull(),
  lng: doublePrecision("lng").notNull(),
  /** The shop's IANA time zone: deal pages say pickup windows in it, wherever the shopper is. */
  timeZone: text("time_zone").notNull().default("Europe/Amsterdam"),
  createdAt: createdAt(),
});

export const users = pgTable(
  "users",
  {
    id: id(),
    email: text("email").notNull().unique(),
    displayName: text("display_name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: userRole("role").notNull().default("shopper"),
    merchantId: text("merchant_id").references(() => merchants.id),
    createdAt: createdAt(),
    /**
     * Sessions carry the generation they were issued under; bumping it ends every one of them
     * (sign out everywhere, a password, role or merchant change, deactivation). A trigger bumps
     * it on a role, merchant or deactivation change made by any statement, the app's or not.
     */
    sessionGeneration: integer("session_generation").notNull().default(0),
    /** Grows with every change to what a session check reads: orders the cached copies. */
    standingVersion: integer("standing_version").notNull().default(0),
    /** Set while an admin has deactivated the account: no sign-in, no session. */
    deactivatedAt: timestamp("deactivated_at", { withTimezone: true }),
    /**
     * When standing_version last moved (set by the same trigger): the background sweep reads the
     * accounts changed lately, so a change made in SQL reaches every process's cached copy.
     */
    standingChangedAt: timestamp("standing_changed_at", { withTimezone: true }),
  },
  (t) => [index("users_standing_changed_idx").on(t.standingChangedAt)],
);

/** Sessions signed out one by one, under the generation they belong to (bounded per user). */
export const endedSessions = pgTable(
  "ended_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    generation: integer("generation").notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("ended_sessions_user_idx").on(t.userId, t.generation)],
);

export const merchantDevices = pgTable("merchant_devices", {
  id: id(),
  merchantId: text("merchant_id")
    .notNull()
    .references(() => merchants.id),
  name: text("name").notNull(),
  credentialHash: text("credential_hash").notNull(),
  enrolledBy: text("enrolled_by")
    .notNull()
    .references(() => users.id),
  createdAt: createdAt(),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
  /**
   * When the shop owner or an admin chose to keep a device whose enroller has since lost the
   * right to enrol it (it is on hold until then, or until it is revoked).
   */
  keptAt: timestamp("kept_at", { withTimezone: true }),
  keptBy: text("kept_by").references(() => users.id),
});

export const deals = pgTable(
  "deals",
  {
    id: id(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    priceCents: integer("price_cents").notNull().default(0),
    originalPriceCents: integer("original_price_cents"),
    currency: text("currency").notNull().default("EUR"),
    quantity: integer("quantity").notNull(),
    /** Units held by active claims; kept in the same transaction as every claim change. */
    sold: integer("sold").notNull().default(0),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    voucherValidUntil: timestamp("voucher_valid_until", { withTimezone: true }).notNull(),
    lat: doublePrecision("lat").notNull(),
    lng: doublePrecision("lng").notNull(),
    geofenceRadiusM: integer("geofence_radius_m"),
    /** Conditions the shopper reads before claiming (one per person, not with other offers…). */
    finePrint: text("fine_print").notNull().default(""),
    /** When a voucher can be collected at the shop; both or neither. */
    pickupStartsAt: timestamp("pickup_starts_at", { withTimezone: true }),
    pickupEndsAt: timestamp("pickup_ends_at", { withTimezone: true }),
    status: dealStatus("status").notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("deals_quantity_positive", sql`${t.quantity} > 0`),
    check("deals_sold_within_quantity", sql`${t.sold} >= 0 AND ${t.sold} <= ${t.quantity}`),
    check("deals_window_ordered", sql`${t.startsAt} < ${t.endsAt}`),
    check("deals_voucher_after_sale", sql`${t.voucherValidUntil} > ${t.endsAt}`),
    check("deals_price_not_negative", sql`${t.priceCents} >= 0`),
    check(
      "deals_pickup_window",
      sql`(${t.pickupStartsAt} IS NULL) = (${t.pickupEndsAt} IS NULL) AND (${t.pickupStartsAt} IS NULL OR ${t.pickupStartsAt} < ${t.pickupEndsAt})`,
    ),
    index("deals_location_idx").on(t.lat, t.lng),
    index("deals_merchant_idx").on(t.merchantId),
  ],
);

export const claims = pgTable(
  "claims",
  {
    id: id(),
    dealId: text("deal_id")
      .notNull()
      .references(() => deals.id),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    status: claimStatus("status").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    reservedUntil: timestamp("reserved_until", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("claims_one_active_per_user")
      .on(t.dealId, t.userId)
      .where(sql`${t.status} IN ('reserved', 'confirmed')`),
    uniqueIndex("claims_idempotency").on(t.dealId, t.userId, t.idempotencyKey),
    index("claims_user_idx").on(t.userId),
  ],
);

export const vouchers = pgTable(
  "vouchers",
  {
    id: id(),
    claimId: text("claim_id")
      .notNull()
      .unique()
      .references(() => claims.id),
    dealId: text("deal_id")
      .notNull()
      .references(() => deals.id),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    subject: text("subject").notNull(),
    kid: text("kid").notNull(),
    token: text("token").notNull(),
    issuedAt: timestamp("issued_at", { withTimezone: true }).notNull(),
    notBefore: timestamp("not_before", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokeReason: text("revoke_reason"),
  },
  (t) => [
    /** The devices' revocation feed: a keyset on (revoked_at, id) per merchant. */
    index("vouchers_revoked_idx").on(t.merchantId, t.revokedAt, t.id),
    /** Tells when the last voucher a key signed expires, so the key can leave the key set. */
    index("vouchers_kid_expiry_idx").on(t.kid, t.expiresAt),
  ],
);

export const redemptions = pgTable(
  "redemptions",
  {
    id: id(),
    voucherId: text("voucher_id")
      .notNull()
      .unique()
      .references(() => vouchers.id),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    deviceId: text("device_id").references(() => merchantDevices.id),
    /** The staff account that redeemed it online (a device's offline redemptions name the device). */
    redeemedBy: text("redeemed_by").references(() => users.id),
    redeemedAt: timestamp("redeemed_at", { withTimezone: true }).notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    clockFlag: redemptionClockFlag("clock_flag"),
  },
  /** The devices' feed of other tills' redemptions: a keyset on (received_at, id) per merchant. */
  (t) => [index("redemptions_feed_idx").on(t.merchantId, t.receivedAt, t.id)],
);

/**
 * A synced redemption that does not count, kept and shown, never merged: one that arrived after
 * the voucher's first (from another device), or after the voucher was cancelled.
 */
export const redemptionConflicts = pgTable(
  "redemption_conflicts",
  {
    id: id(),
    voucherId: text("voucher_id")
      .notNull()
      .references(() => vouchers.id),
    kind: redemptionConflictKind("kind").notNull().default("redeemed_twice"),
    /** The redemption that counts; a cancelled voucher has none. */
    firstRedemptionId: text("first_redemption_id").references(() => redemptions.id),
    deviceId: text("device_id").references(() => merchantDevices.id),
    redeemedAt: timestamp("redeemed_at", { withTimezone: true }).notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    clockFlag: redemptionClockFlag("clock_flag"),
  },
  (t) => [
    // A device redeems a voucher once at most, so a re-sent batch cannot record it twice.
    uniqueIndex("redemption_conflicts_once_per_device").on(t.voucherId, t.deviceId),
    check(
      "redemption_conflicts_first_of_twice",
      sql`(${t.kind} = 'redeemed_twice') = (${t.firstRedemptionId} IS NOT NULL)`,
    ),
  ],
);

export const signingKeys = pgTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    publicJwk: jsonb("public_jwk").notNull(),
    /** Encrypted at rest; erased when the key retires, since it never signs again. */
    privateJwkEncrypted: text("private_jwk_encrypted"),
    status: signingKeyStatus("status").notNull(),
    /** When the key entered the published key set (a `next` key is published, not signing). */
    createdAt: createdAt(),
    activatedAt: timestamp("activated_at", { withTimezone: true }),
    retiredAt: timestamp("retired_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("signing_keys_one_active").on(t.status).where(sql`${t.status} = 'active'`),
    uniqueIndex("signing_keys_one_next").on(t.status).where(sql`${t.status} = 'next'`),
  ],
);

export const payments = pgTable("payments", {
  id: id(),
  claimId: text("claim_id")
    .notNull()
    .references(() => claims.id),
  provider: text("provider").notNull(),
  providerRef: text("provider_ref"),
  idempotencyKey: text("idempotency_key").notNull().unique(),
  amountCents: integer("amount_cents").notNull(),
  status: paymentStatus("status").notNull().default("pending"),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  /** A pending payment whose answer was lost is asked about again from then on. */
  nextLookupAt: timestamp("next_lookup_at", { withTimezone: true }),
});

/** An invitation for a merchant's staff member to set a password; only its hash is kept. */
export const staffInvites = pgTable(
  "staff_invites",
  {
    id: id(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    email: text("email").notNull(),
    displayName: text("display_name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedBy: text("invited_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    /** Withdrawn by an admin before it was used: the link is refused from then on. */
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedBy: text("revoked_by").references(() => users.id),
  },
  (t) => [index("staff_invites_merchant_idx").on(t.merchantId)],
);

/**
 * Every change an admin or merchant made: who, what, when. Written in the transaction of the
 * change itself, so a change without its entry cannot commit.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actorUserId: text("actor_user_id").references(() => users.id),
    /** The actor's name and role when it acted, so the entry reads the same after renames. */
    actorName: text("actor_name").notNull(),
    actorRole: userRole("actor_role").notNull(),
    /** The merchant the change concerns, when there is one (staff see their merchant's). */
    merchantId: text("merchant_id").references(() => merchants.id),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    details: jsonb("details").notNull().default({}),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at),
    index("audit_log_merchant_idx").on(t.merchantId, t.at),
    index("audit_log_target_idx").on(t.targetId, t.at),
  ],
);

/** Values the app generates for itself on first start (for example a session secret). */
export const appSettings = pgTable("app_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export type User = typeof users.$inferSelect;
export type Merchant = typeof merchants.$inferSelect;
export type Deal = typeof deals.$inferSelect;
export type Claim = typeof claims.$inferSelect;

import "server-only";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import type { SelectedFields } from "drizzle-orm/pg-core";
import type { Db } from "@/db/client";
import { merchantDevices, merchants, users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { recordAudit } from "../audit/audit-log";
import { type Actor, merchantScopeOf } from "../auth/actor";
import { hashSecret } from "../auth/secret-hash";
import { DomainError } from "../errors";

export interface AuthenticatedDevice {
  deviceId: string;
  deviceName: string;
  merchantId: string;
  merchantName: string;
}

/** The enroller's standing, as the device's hold depends on it. */
interface Enroller {
  role: "shopper" | "merchant" | "admin";
  merchantId: string | null;
  deactivatedAt: Date | null;
}

/**
 * Why a device is on hold, or null: the person who enrolled it no longer works for its shop,
 * or their account was deactivated, and nobody with the right has kept it since.
 */
export function holdReasonOf(
  device: { merchantId: string; keptAt: Date | null; revokedAt: Date | null },
  enroller: Enroller,
): "enroller-deactivated" | "enroller-left-shop" | null {
  if (device.keptAt || device.revokedAt) return null;
  if (enroller.deactivatedAt) return "enroller-deactivated";
  if (enroller.role !== "merchant" || enroller.merchantId !== device.merchantId) {
    return "enroller-left-shop";
  }
  return null;
}

/**
 * What decides whether a device is heard (holdReasonOf): revoked, kept, and its enroller's
 * standing now. Read with `users` joined on the enroller.
 */
const standingColumns = {
  revokedAt: merchantDevices.revokedAt,
  keptAt: merchantDevices.keptAt,
  enrollerRole: users.role,
  enrollerMerchantId: users.merchantId,
  enrollerDeactivatedAt: users.deactivatedAt,
};

const enrollerOf = (row: {
  enrollerRole: Enroller["role"];
  enrollerMerchantId: string | null;
  enrollerDeactivatedAt: Date | null;
}): Enroller => ({
  role: row.enrollerRole,
  merchantId: row.enrollerMerchantId,
  deactivatedAt: row.enrollerDeactivatedAt,
});

/** The credential a device shows: `<device id>.<secret>`. Only a hash of the secret is stored. */
const CREDENTIAL = /^([0-9A-Za-z]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Merchant counter devices. Staff enrol a device once while online; it keeps the credential
 * in IndexedDB and shows it on every sync. Revoking a device refuses its syncs from then on.
 * A device outlives no one's right by itself: when its enroller loses the role, the shop or
 * the account, it is on hold (DEVICE_ON_HOLD) until the shop's staff or an admin keeps or
 * revokes it. The hold is read from Postgres at every call, as the credential is.
 */
export class DeviceService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date,
  ) {}

  async enroll(staff: Actor & { merchantId: string }, name: string) {
    // The session said so when it was checked; Postgres says so now, for a credential that
    // outlives the session (a change made in SQL reaches sessions only as their copies expire).
    const [enroller] = await this.db
      .select({
        role: users.role,
        merchantId: users.merchantId,
        deactivatedAt: users.deactivatedAt,
      })
      .from(users)
      .where(eq(users.id, staff.userId));
    if (!enroller || enroller.deactivatedAt) {
      throw new DomainError("ACCOUNT_DEACTIVATED", "This account was deactivated.");
    }
    if (enroller.role !== "merchant" || enroller.merchantId !== staff.merchantId) {
      throw new DomainError("NOT_YOURS", "This account no longer belongs to this merchant.");
    }
    const secret = randomBytes(32).toString("base64url");
    const device = {
      id: newId(),
      merchantId: staff.merchantId,
      name,
      credentialHash: hashSecret(secret),
      enrolledBy: staff.userId,
      createdAt: this.clock(),
    };
    await this.db.transaction(async (tx) => {
      await tx.insert(merchantDevices).values(device);
      await recordAudit(
        tx,
        staff,
        {
          action: "device.enroll",
          targetType: "device",
          targetId: device.id,
          merchantId: staff.merchantId,
          details: { name },
        },
        device.createdAt,
      );
    });
    const [merchant] = await this.db
      .select({ name: merchants.name })
      .from(merchants)
      .where(eq(merchants.id, staff.merchantId));
    return {
      deviceId: device.id,
      deviceName: name,
      merchantId: staff.merchantId,
      merchantName: merchant?.name ?? "",
      /** Shown once, never stored in the clear. */
      credential: `${device.id}.${secret}`,
    };
  }

  /** Checks a device credential; a revoked device is told so, with when. */
  async authenticate(credential: string | null): Promise<AuthenticatedDevice> {
    const match = credential ? CREDENTIAL.exec(credential) : null;
    if (!match) {
      throw new DomainError(
        "DEVICE_UNKNOWN",
        "This device is not enrolled: enrol it while online.",
      );
    }
    const [, deviceId = "", secret = ""] = match;
    const [row] = await this.devicesWithStanding({
      deviceId: merchantDevices.id,
      deviceName: merchantDevices.name,
      credentialHash: merchantDevices.credentialHash,
    }).where(eq(merchantDevices.id, deviceId));
    const given = Buffer.from(hashSecret(secret));
    if (!row || !timingSafeEqual(given, Buffer.from(row.credentialHash))) {
      throw new DomainError(
        "DEVICE_UNKNOWN",
        "This device is not enrolled: enrol it while online.",
      );
    }
    if (row.revokedAt) {
      throw new DomainError(
        "DEVICE_REVOKED",
        `This device was revoked on ${row.revokedAt.toISOString()}. Ask a manager to enrol it again.`,
        { revokedAt: row.revokedAt.toISOString() },
      );
    }
    const hold = holdReasonOf(row, enrollerOf(row));
    if (hold) {
      throw new DomainError(
        "DEVICE_ON_HOLD",
        "This device is on hold: the person who enrolled it no longer may. Ask the shop's staff or an admin to keep or revoke it.",
        { reason: hold },
      );
    }
    await this.db
      .update(merchantDevices)
      .set({ lastSeenAt: this.clock() })
      .where(eq(merchantDevices.id, deviceId));
    return {
      deviceId: row.deviceId,
      deviceName: row.deviceName,
      merchantId: row.merchantId,
      merchantName: row.merchantName,
    };
  }

  /** Devices of one merchant, or of all merchants for an admin (merchantId null). */
  async list(merchantId: string | null) {
    const rows = await this.devicesWithStanding({
      deviceId: merchantDevices.id,
      name: merchantDevices.name,
      enrolledBy: users.displayName,
      enrolledAt: merchantDevices.createdAt,
      lastSeenAt: merchantDevices.lastSeenAt,
    })
      .where(merchantId ? eq(merchantDevices.merchantId, merchantId) : undefined)
      .orderBy(desc(merchantDevices.createdAt));
    return rows.map(({ enrollerRole, enrollerMerchantId, enrollerDeactivatedAt, ...device }) => ({
      ...device,
      holdReason: holdReasonOf(device, {
        role: enrollerRole,
        merchantId: enrollerMerchantId,
        deactivatedAt: enrollerDeactivatedAt,
      }),
    }));
  }

  /** Devices with their shop's id and name and their standing, `columns` beside. */
  private devicesWithStanding<T extends SelectedFields>(columns: T) {
    return this.db
      .select({
        ...columns,
        merchantId: merchantDevices.merchantId,
        merchantName: merchants.name,
        ...standingColumns,
      })
      .from(merchantDevices)
      .innerJoin(merchants, eq(merchants.id, merchantDevices.merchantId))
      .innerJoin(users, eq(users.id, merchantDevices.enrolledBy));
  }

  /**
   * Keeps a device on hold: the shop's staff or an admin vouch for it in place of the person
   * who enrolled it, and it is heard again. Keeping a device not on hold changes nothing.
   */
  async keep(actor: Actor, deviceId: string) {
    const merchantId = actor.role === "admin" ? null : merchantScopeOf(actor);
    const now = this.clock();
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .select({
          merchantId: merchantDevices.merchantId,
          name: merchantDevices.name,
          ...standingColumns,
        })
        .from(merchantDevices)
        .innerJoin(users, eq(users.id, merchantDevices.enrolledBy))
        .where(
          merchantId
            ? and(eq(merchantDevices.id, deviceId), eq(merchantDevices.merchantId, merchantId))
            : eq(merchantDevices.id, deviceId),
        )
        .for("update", { of: merchantDevices });
      if (!row) throw new DomainError("NOT_FOUND", "No device with this id.", { deviceId });
      if (row.revokedAt) {
        throw new DomainError("INVALID_STATE", "This device is revoked: enrol it again.", {
          revokedAt: row.revokedAt.toISOString(),
        });
      }
      const reason = holdReasonOf(row, enrollerOf(row));
      if (!reason) return { deviceId, keptAt: row.keptAt };
      await tx
        .update(merchantDevices)
        .set({ keptAt: now, keptBy: actor.userId })
        .where(eq(merchantDevices.id, deviceId));
      await recordAudit(
        tx,
        actor,
        {
          action: "device.keep",
          targetType: "device",
          targetId: deviceId,
          merchantId: row.merchantId,
          details: { name: row.name, reason },
        },
        now,
      );
      return { deviceId, keptAt: now };
    });
  }

  /** Revokes a device; staff may revoke only their own merchant's, admins any. */
  async revoke(actor: Actor, deviceId: string) {
    const merchantId = actor.role === "admin" ? null : merchantScopeOf(actor);
    const scope = merchantId
      ? and(eq(merchantDevices.id, deviceId), eq(merchantDevices.merchantId, merchantId))
      : eq(merchantDevices.id, deviceId);
    const now = this.clock();
    const revoked = await this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(merchantDevices)
        .set({ revokedAt: now })
        .where(and(scope, isNull(merchantDevices.revokedAt)))
        .returning({ merchantId: merchantDevices.merchantId, name: merchantDevices.name });
      if (row) {
        await recordAudit(
          tx,
          actor,
          {
            action: "device.revoke",
            targetType: "device",
            targetId: deviceId,
            merchantId: row.merchantId,
            details: { name: row.name },
          },
          now,
        );
      }
      return row;
    });
    if (revoked) return { deviceId, revokedAt: now };
    const [existing] = await this.db
      .select({ revokedAt: merchantDevices.revokedAt })
      .from(merchantDevices)
      .where(scope);
    if (!existing) throw new DomainError("NOT_FOUND", "No device with this id.", { deviceId });
    return { deviceId, revokedAt: existing.revokedAt as Date };
  }
}

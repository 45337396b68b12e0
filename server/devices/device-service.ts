import "server-only";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
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

/** The credential a device shows: `<device id>.<secret>`. Only a hash of the secret is stored. */
const CREDENTIAL = /^([0-9A-Za-z]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Merchant counter devices. Staff enrol a device once while online; it keeps the credential
 * in IndexedDB and shows it on every sync. Revoking a device refuses its syncs from then on.
 */
export class DeviceService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date,
  ) {}

  async enroll(staff: Actor & { merchantId: string }, name: string) {
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
    const [row] = await this.db
      .select({
        deviceId: merchantDevices.id,
        deviceName: merchantDevices.name,
        merchantId: merchantDevices.merchantId,
        merchantName: merchants.name,
        credentialHash: merchantDevices.credentialHash,
        revokedAt: merchantDevices.revokedAt,
      })
      .from(merchantDevices)
      .innerJoin(merchants, eq(merchants.id, merchantDevices.merchantId))
      .where(eq(merchantDevices.id, deviceId));
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
    await this.db
      .update(merchantDevices)
      .set({ lastSeenAt: this.clock() })
      .where(eq(merchantDevices.id, deviceId));
    const { credentialHash: _hash, revokedAt: _revoked, ...device } = row;
    return device;
  }

  /** Devices of one merchant, or of all merchants for an admin (merchantId null). */
  async list(merchantId: string | null) {
    return this.db
      .select({
        deviceId: merchantDevices.id,
        name: merchantDevices.name,
        merchantId: merchantDevices.merchantId,
        merchantName: merchants.name,
        enrolledBy: users.displayName,
        enrolledAt: merchantDevices.createdAt,
        lastSeenAt: merchantDevices.lastSeenAt,
        revokedAt: merchantDevices.revokedAt,
      })
      .from(merchantDevices)
      .innerJoin(merchants, eq(merchants.id, merchantDevices.merchantId))
      .innerJoin(users, eq(users.id, merchantDevices.enrolledBy))
      .where(merchantId ? eq(merchantDevices.merchantId, merchantId) : undefined)
      .orderBy(desc(merchantDevices.createdAt));
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

import "server-only";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db } from "@/db/client";
import { auditLog } from "@/db/schema";
import { newId } from "@/lib/ids";
import type { Actor } from "../auth/actor";

export interface AuditEntry {
  action: string;
  targetType: "merchant" | "staff" | "deal" | "device" | "gate" | "signing-key";
  targetId: string;
  /** The merchant the change concerns, so its staff can read their own history. */
  merchantId: string | null;
  details?: Record<string, unknown>;
}

/** Anything that runs statements: the database or the change's own transaction. */
type Executor = Pick<Db, "insert">;

/** Writes one entry, in the transaction of the change it records. */
export async function recordAudit(executor: Executor, actor: Actor, entry: AuditEntry, at: Date) {
  await executor.insert(auditLog).values({
    id: newId(),
    at,
    actorUserId: actor.userId,
    actorName: actor.displayName,
    actorRole: actor.role,
    merchantId: entry.merchantId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    details: entry.details ?? {},
  });
}

const PAGE = 100;

export class AuditLogReader {
  constructor(private readonly db: Db) {}

  /** Newest first, a page at a time (`before` is the last entry's time of the page read). */
  async list(filter: { merchantId?: string | null; targetId?: string; before?: Date | null }) {
    const conditions: SQL[] = [];
    if (filter.merchantId) conditions.push(eq(auditLog.merchantId, filter.merchantId));
    if (filter.targetId) conditions.push(eq(auditLog.targetId, filter.targetId));
    if (filter.before) conditions.push(lt(auditLog.at, filter.before));
    return this.db
      .select({
        id: auditLog.id,
        at: auditLog.at,
        actorName: auditLog.actorName,
        actorRole: auditLog.actorRole,
        merchantId: auditLog.merchantId,
        action: auditLog.action,
        targetType: auditLog.targetType,
        targetId: auditLog.targetId,
        details: auditLog.details,
      })
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(PAGE);
  }
}

import "server-only";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { auditLog } from "@/db/schema";
import { idSchema, newId } from "@/lib/ids";
import { timestampSchema } from "@/lib/storable-input";
import type { Actor } from "../auth/actor";

export interface AuditEntry {
  action: string;
  targetType: "merchant" | "staff" | "deal" | "device" | "gate" | "signing-key" | "account";
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

/** Where the next page of the log starts: the last entry of the page read. */
export const auditCursor = z.object({ at: timestampSchema("the cursor"), id: idSchema }).nullish();

export class AuditLogReader {
  constructor(private readonly db: Db) {}

  /**
   * Newest first, a page at a time: `before` is the last entry of the page read (its time and
   * id, since several entries can share a time and a page may end between them).
   */
  async list(filter: {
    merchantId?: string | null;
    targetId?: string;
    before?: { at: Date; id: string } | null;
  }) {
    const conditions: SQL[] = [];
    if (filter.merchantId) conditions.push(eq(auditLog.merchantId, filter.merchantId));
    if (filter.targetId) conditions.push(eq(auditLog.targetId, filter.targetId));
    if (filter.before) {
      const { at, id } = filter.before;
      conditions.push(
        sql`(${auditLog.at}, ${auditLog.id}) < (${at.toISOString()}::timestamptz, ${id})`,
      );
    }
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

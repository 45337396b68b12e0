import "server-only";
import { DomainError } from "../errors";
import type { Session } from "./session";

/** Who makes a change: a signed-in admin or merchant staff member. */
export type Actor = Session;

/** The merchant whose things this staff member may manage. */
export function merchantScopeOf(actor: Actor): string {
  if (!actor.merchantId) throw new DomainError("NOT_YOURS", "This account belongs to no merchant.");
  return actor.merchantId;
}

/** Admins manage every merchant's things; staff their own merchant's only. */
export function assertMayManage(actor: Actor, merchantId: string) {
  if (actor.role === "admin") return;
  if (merchantScopeOf(actor) !== merchantId) {
    throw new DomainError("NOT_YOURS", "This deal belongs to another merchant.");
  }
}

import { z } from "zod";
import { pointSchema } from "../geo";
import { idSchema } from "../ids";

/** Input of a claim, shared by the tRPC procedure and any leaner HTTP route. */
export const claimInputSchema = z.object({
  dealId: idSchema,
  idempotencyKey: z
    .string({ error: "idempotencyKey is required" })
    .min(8, "idempotencyKey must be 8 to 64 characters")
    .max(64, "idempotencyKey must be 8 to 64 characters")
    .regex(/^[A-Za-z0-9_-]+$/, "idempotencyKey may hold letters, digits, '_' and '-'"),
  /** Where the shopper says they are; required by deals with a geo-fence. */
  position: pointSchema.optional(),
  /**
   * The answer to a proof-of-work puzzle (lib/bots/proof-of-work.ts), asked only of a client
   * sending claims faster than a person does (CHALLENGE_REQUIRED).
   */
  proof: z.string().max(512, "proof must be at most 512 characters").optional(),
});
export type ClaimInput = z.infer<typeof claimInputSchema>;

export const cancelClaimInputSchema = z.object({ claimId: idSchema });

export type ClaimStatus = "reserved" | "confirmed" | "cancelled" | "expired";

/**
 * What a claim attempt decided. WON carries the claim (a replay of the same idempotency key
 * returns the same claim, in its current status); ALREADY_CLAIMED names the claim the user
 * already holds; ALREADY_CANCELLED names the claim whose voucher the user cancelled (one
 * voucher per shopper per deal, ever: the unit went back to the others); the rest are
 * rejections that changed nothing.
 */
export type ClaimResult =
  | {
      outcome: "WON";
      claimId: string;
      status: ClaimStatus;
      reservedUntil: Date | null;
      replayed: boolean;
      /** The voucher of a confirmed claim; absent while a priced claim awaits payment. */
      voucherId?: string;
    }
  | { outcome: "ALREADY_CLAIMED" | "ALREADY_CANCELLED"; claimId: string }
  | { outcome: "SOLD_OUT" | "NOT_STARTED" | "ENDED" | "CANCELLED" };

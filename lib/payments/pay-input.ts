import { z } from "zod";
import { idSchema } from "../ids";

/**
 * What the browser sends to pay for a reservation: the claim, and the token the configured
 * provider's form made (a Stripe PaymentMethod id, a test card's name). Dealdrop never reads
 * the token; it only keeps it to a size and alphabet every provider's ids fit.
 */
export const payInputSchema = z.object({
  claimId: idSchema,
  paymentMethod: z
    .string({ error: "must be the payment form's token" })
    .regex(
      /^[A-Za-z0-9_.:-]{1,255}$/,
      "must be the payment form's token (1 to 255 letters, digits, '_', '.', ':' or '-')",
    ),
});

/** What the storefront is told about the configured provider, to draw its payment form. */
export interface PaymentFormSpec {
  provider: string;
  /** The provider's public settings (a publishable key, the test cards): never a secret. */
  settings: Record<string, unknown>;
}

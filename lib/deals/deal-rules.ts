import { z } from "zod";
import { pointSchema } from "../geo";
import { idSchema } from "../ids";
import { storableText, timestampSchema } from "../storable-input";

/** A deal's editable fields, with the messages the form shows beside each. */
export const dealFieldsSchema = z.object({
  title: storableText({
    missing: "give the deal a title",
    min: [3, "give the deal a title of at least 3 characters"],
    max: [120, "keep the title under 120 characters"],
  }),
  description: storableText({ max: [1_000, "keep the description under 1,000 characters"] }),
  finePrint: storableText({ max: [2_000, "keep the fine print under 2,000 characters"] }).default(
    "",
  ),
  priceCents: z
    .number({ error: "price must be a number" })
    .int("price must be whole cents")
    .min(0, "price cannot be negative")
    .max(10_000_000, "price must be at most 100,000.00"),
  originalPriceCents: z
    .number({ error: "original price must be a number" })
    .int("original price must be whole cents")
    .min(1, "original price must be above zero")
    .max(10_000_000, "original price must be at most 100,000.00")
    .nullable(),
  quantity: z
    .number({ error: "quantity must be a number" })
    .int("quantity must be a whole number")
    .min(1, "quantity must be at least 1")
    .max(1_000_000, "quantity must be at most 1,000,000"),
  startsAt: timestampSchema("start"),
  endsAt: timestampSchema("end"),
  voucherValidUntil: timestampSchema("voucher validity"),
  location: pointSchema,
  geofenceRadiusM: z
    .number({ error: "geo-fence radius must be a number" })
    .int("geo-fence radius must be whole metres")
    .min(50, "geo-fence radius must be at least 50 m")
    .max(50_000, "geo-fence radius must be at most 50 km")
    .nullable(),
  pickupStartsAt: timestampSchema("pickup start").nullable().default(null),
  pickupEndsAt: timestampSchema("pickup end").nullable().default(null),
});
export type DealFields = z.infer<typeof dealFieldsSchema>;
export type DealField = keyof DealFields;
export type DealProblems = Partial<Record<DealField, string[]>>;

const MAX_SALE_MS = 31 * 24 * 3_600_000;

/**
 * The rules between fields, for a new deal or an edited one (checked after merging). `now`
 * is the server's clock; without it (the form, the input schema) the future is not checked.
 */
export function dealWindowProblems(deal: DealFields, now?: Date): DealProblems {
  const problems: DealProblems = {};
  const add = (field: DealField, message: string) => {
    problems[field] = [...(problems[field] ?? []), message];
  };
  if (deal.endsAt <= deal.startsAt) add("endsAt", "the sale must end after it starts");
  else if (deal.endsAt.getTime() - deal.startsAt.getTime() > MAX_SALE_MS) {
    add("endsAt", "a sale can run for 31 days at most");
  }
  if (now && deal.endsAt <= now) add("endsAt", "the sale must end in the future");
  if (deal.voucherValidUntil <= deal.endsAt) {
    add("voucherValidUntil", "vouchers must stay valid until after the sale ends");
  }
  const { pickupStartsAt, pickupEndsAt } = deal;
  if ((pickupStartsAt === null) !== (pickupEndsAt === null)) {
    add(pickupStartsAt ? "pickupEndsAt" : "pickupStartsAt", "give both ends of the pickup window");
  } else if (pickupStartsAt && pickupEndsAt) {
    if (pickupEndsAt <= pickupStartsAt) add("pickupEndsAt", "pickup must end after it starts");
    else if (pickupEndsAt > deal.voucherValidUntil) {
      add("pickupEndsAt", "pickup must end while vouchers are still valid");
    }
  }
  if (deal.originalPriceCents !== null && deal.originalPriceCents <= deal.priceCents) {
    add("originalPriceCents", "the original price must be above the deal price");
  }
  return problems;
}

export const createDealInputSchema = dealFieldsSchema
  .extend({
    /** Required from admins; staff create deals for their own merchant only. */
    merchantId: idSchema.optional(),
  })
  .superRefine((deal, context) => {
    for (const [field, messages] of Object.entries(dealWindowProblems(deal))) {
      for (const message of messages ?? [])
        context.addIssue({ code: "custom", path: [field], message });
    }
  });
/** What a caller may send: the deal page's details (fine print, pickup) may be left out. */
export type CreateDealInput = z.input<typeof createDealInputSchema>;

/** A new deal's fields with the deal page's details filled in where the caller left them out. */
export function withDealDefaults<T extends CreateDealInput>(given: T) {
  return {
    ...given,
    finePrint: given.finePrint ?? "",
    pickupStartsAt: given.pickupStartsAt ?? null,
    pickupEndsAt: given.pickupEndsAt ?? null,
  };
}

export const updateDealInputSchema = z.object({
  dealId: idSchema,
  changes: dealFieldsSchema.partial(),
});
export type UpdateDealInput = z.infer<typeof updateDealInputSchema>;

/** Where a deal is in its life, as the dashboard shows it. */
export type DealPhase = "upcoming" | "live" | "ended" | "cancelled";

export function dealPhase(
  deal: { status: "active" | "cancelled"; startsAt: Date; endsAt: Date },
  now: Date,
): DealPhase {
  if (deal.status === "cancelled") return "cancelled";
  if (now < deal.startsAt) return "upcoming";
  return now < deal.endsAt ? "live" : "ended";
}

import { z } from "zod";
import {
  type DealField,
  type DealFields,
  type DealPhase,
  type DealProblems,
  dealFieldsSchema,
  dealWindowProblems,
} from "@/lib/deals/deal-rules";
import type { Point } from "@/lib/geo";
import { toLocalInput } from "./format-when";

/** What the form's inputs hold: text, as typed. Prices in euros, times in local time. */
export interface DealFormValues {
  title: string;
  description: string;
  price: string;
  originalPrice: string;
  quantity: string;
  startsAt: string;
  endsAt: string;
  voucherValidUntil: string;
  lat: string;
  lng: string;
  geofenceRadiusM: string;
  finePrint: string;
  pickupStartsAt: string;
  pickupEndsAt: string;
}
export type DealInput = keyof DealFormValues;

/** The deal field each input feeds (lat and lng both feed the location). */
export const FIELD_OF_INPUT: Record<DealInput, DealField> = {
  title: "title",
  description: "description",
  price: "priceCents",
  originalPrice: "originalPriceCents",
  quantity: "quantity",
  startsAt: "startsAt",
  endsAt: "endsAt",
  voucherValidUntil: "voucherValidUntil",
  lat: "location",
  lng: "location",
  geofenceRadiusM: "geofenceRadiusM",
  finePrint: "finePrint",
  pickupStartsAt: "pickupStartsAt",
  pickupEndsAt: "pickupEndsAt",
};

export const FIELD_LABELS: Record<DealField, string> = {
  title: "Title",
  description: "Description",
  priceCents: "Price",
  originalPriceCents: "Original price",
  quantity: "Quantity",
  startsAt: "Sale starts",
  endsAt: "Sale ends",
  voucherValidUntil: "Vouchers valid until",
  location: "Location",
  geofenceRadiusM: "Geo-fence radius",
  finePrint: "Fine print",
  pickupStartsAt: "Pickup from",
  pickupEndsAt: "Pickup until",
};

const euros = (cents: number | null) => (cents === null ? "" : (cents / 100).toFixed(2));
const optional = (n: number | null) => (n === null ? "" : String(n));

export function valuesOfDeal(deal: DealFields): DealFormValues {
  return {
    title: deal.title,
    description: deal.description,
    price: euros(deal.priceCents),
    originalPrice: euros(deal.originalPriceCents),
    quantity: String(deal.quantity),
    startsAt: toLocalInput(deal.startsAt),
    endsAt: toLocalInput(deal.endsAt),
    voucherValidUntil: toLocalInput(deal.voucherValidUntil),
    lat: String(deal.location.lat),
    lng: String(deal.location.lng),
    geofenceRadiusM: optional(deal.geofenceRadiusM),
    finePrint: deal.finePrint,
    pickupStartsAt: deal.pickupStartsAt ? toLocalInput(deal.pickupStartsAt) : "",
    pickupEndsAt: deal.pickupEndsAt ? toLocalInput(deal.pickupEndsAt) : "",
  };
}

/** A new deal: starting at the next quarter hour, two hours long, vouchers good for a week. */
export function newDealValues(now: Date, location: Point | null): DealFormValues {
  const quarter = 15 * 60_000;
  const start = new Date(Math.ceil((now.getTime() + 5 * 60_000) / quarter) * quarter);
  const end = new Date(start.getTime() + 2 * 3_600_000);
  return {
    title: "",
    description: "",
    price: "0",
    originalPrice: "",
    quantity: "",
    startsAt: toLocalInput(start),
    endsAt: toLocalInput(end),
    voucherValidUntil: toLocalInput(new Date(end.getTime() + 7 * 24 * 3_600_000)),
    lat: location ? String(location.lat) : "",
    lng: location ? String(location.lng) : "",
    geofenceRadiusM: "",
    finePrint: "",
    pickupStartsAt: "",
    pickupEndsAt: "",
  };
}

/** A number as typed; empty is not a number. A decimal comma reads as a point ("4,50"). */
const number = (text: string) => (text.trim() === "" ? Number.NaN : Number(text.replace(",", ".")));
const numberOrNull = (text: string) => (text.trim() === "" ? null : number(text));
const cents = (text: string) => Math.round(number(text) * 100);
const date = (text: string) => new Date(text === "" ? Number.NaN : text);
const dateOrNull = (text: string) => (text.trim() === "" ? null : date(text));

function parsedFields(values: DealFormValues): Record<DealField, unknown> {
  const originalPrice = numberOrNull(values.originalPrice);
  return {
    title: values.title,
    description: values.description,
    priceCents: cents(values.price),
    originalPriceCents: originalPrice === null ? null : Math.round(originalPrice * 100),
    quantity: number(values.quantity),
    startsAt: date(values.startsAt),
    endsAt: date(values.endsAt),
    voucherValidUntil: date(values.voucherValidUntil),
    location: { lat: number(values.lat), lng: number(values.lng) },
    geofenceRadiusM: numberOrNull(values.geofenceRadiusM),
    finePrint: values.finePrint,
    pickupStartsAt: dateOrNull(values.pickupStartsAt),
    pickupEndsAt: dateOrNull(values.pickupEndsAt),
  };
}

/** The fields whose inputs differ from what the form started with. */
export function changedFields(values: DealFormValues, initial: DealFormValues): DealField[] {
  const changed = new Set<DealField>();
  for (const input of Object.keys(values) as DealInput[]) {
    if (values[input] !== initial[input]) changed.add(FIELD_OF_INPUT[input]);
  }
  return [...changed];
}

export type DealCheck = { ok: true; fields: DealFields } | { ok: false; problems: DealProblems };

/**
 * The form's values checked by the same rules as the server. When editing, `base` holds the
 * deal as loaded: untouched fields keep its exact values (a datetime input drops seconds).
 */
export function checkDealValues(
  values: DealFormValues,
  now: Date,
  base?: { values: DealFormValues; fields: DealFields },
): DealCheck {
  const parsed = parsedFields(values);
  if (base) {
    const changed = new Set(changedFields(values, base.values));
    for (const field of Object.keys(parsed) as DealField[]) {
      if (!changed.has(field)) parsed[field] = base.fields[field];
    }
  }
  const result = dealFieldsSchema.safeParse(parsed);
  if (!result.success) {
    return { ok: false, problems: z.flattenError(result.error).fieldErrors as DealProblems };
  }
  const problems = dealWindowProblems(result.data, now);
  return Object.keys(problems).length > 0
    ? { ok: false, problems }
    : { ok: true, fields: result.data };
}

/** Inputs a deal's phase closes, with the reason shown beside each. */
export function lockedInputsOf(phase: DealPhase): Partial<Record<DealInput, string>> {
  if (phase !== "live") return {};
  return {
    price: "the sale is live: shoppers have claimed at this price",
    startsAt: "the sale is live: its start cannot move",
  };
}

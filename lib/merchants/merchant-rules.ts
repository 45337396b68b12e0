import { z } from "zod";
import { pointSchema } from "../geo";
import { storableText } from "../storable-input";

/** A merchant's editable fields, shared by the admin form and the API. */
export const merchantFieldsSchema = z.object({
  name: storableText({
    missing: "give the merchant a name",
    min: [2, "give the merchant a name of at least 2 characters"],
    max: [100, "keep the name under 100 characters"],
  }),
  address: storableText({
    missing: "give the shop's address",
    min: [5, "give the shop's street address"],
    max: [200, "keep the address under 200 characters"],
  }),
  location: pointSchema,
  timeZone: z
    .string({ error: "give the shop's time zone" })
    .max(64, "give a time zone such as Europe/Amsterdam")
    .refine(isTimeZone, "give a time zone such as Europe/Amsterdam")
    .default("Europe/Amsterdam"),
});

/** An IANA time zone this runtime knows (the browser's and the server's Intl agree on these). */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone.includes("/") || zone === "UTC";
  } catch {
    return false;
  }
}
/** The time zone may be left out (the shop keeps its own, or starts in Europe/Amsterdam). */
export type MerchantFields = z.input<typeof merchantFieldsSchema>;

export const staffInviteSchema = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, "email is too long")
    .pipe(z.email("must be an email address")),
  displayName: storableText({ min: [1, "name is required"], max: [80, "name is too long"] }),
});

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
});
export type MerchantFields = z.infer<typeof merchantFieldsSchema>;

export const staffInviteSchema = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, "email is too long")
    .pipe(z.email("must be an email address")),
  displayName: storableText({ min: [1, "name is required"], max: [80, "name is too long"] }),
});

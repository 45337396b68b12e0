"use client";

import { type FormEvent, type ReactNode, useId, useState } from "react";
import { type MerchantFields, merchantFieldsSchema } from "@/lib/merchants/merchant-rules";
import { readApiError } from "@/lib/wire/read-api-error";
import { ErrorNote, Field, type FieldErrors, issuesByField } from "../admin-parts";

/** What to say when a field is left empty (the schema's own message is about types). */
const MISSING: Record<string, string> = {
  name: "give the merchant a name",
  address: "give the shop's address",
  lat: "enter the latitude, a number such as 52.3731",
  lng: "enter the longitude, a number such as 4.8922",
  timeZone: "give a time zone such as Europe/Amsterdam",
};

/** Reads the form and checks it with the API's own schema, so mistakes show before sending. */
function readMerchantFields(form: FormData): { fields?: MerchantFields; errors: FieldErrors } {
  const text = (name: string) => String(form.get(name) ?? "");
  const coordinate = (name: string) => (text(name).trim() === "" ? undefined : Number(text(name)));
  const parsed = merchantFieldsSchema.safeParse({
    name: text("name"),
    address: text("address"),
    location: { lat: coordinate("lat"), lng: coordinate("lng") },
    timeZone: text("timeZone").trim(),
  });
  if (parsed.success) return { fields: parsed.data, errors: {} };
  return { errors: issuesByField(parsed.error.issues, MISSING) };
}

const TEXT_FIELDS = [
  { name: "name", label: "Name", maxLength: 100 },
  {
    name: "address",
    label: "Address",
    maxLength: 200,
    hint: "Street, number and city, as shoppers will see it.",
  },
  {
    name: "timeZone",
    label: "Time zone",
    maxLength: 64,
    hint: "Where the shop is, such as Europe/Amsterdam: deal pages show pickup times in it.",
  },
] as const;

interface MerchantFormProps {
  initial?: MerchantFields;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  onSubmit: (fields: MerchantFields) => void;
  /** Called when the person changes anything, to clear a "saved" note. */
  onEdit?: () => void;
  /** Shown beside the button, such as "Saved." */
  status?: ReactNode;
  locationHint?: string;
}

/** The merchant's name, address and map point: used to create a merchant and to edit one. */
export function MerchantForm(props: MerchantFormProps) {
  const { initial, error } = props;
  const [errors, setErrors] = useState<FieldErrors>({});
  const hintId = useId();
  // The server checks the same schema; its messages matter only if the two ever disagree.
  const serverErrors: FieldErrors = (error && readApiError(error).fieldErrors) || {};
  const shown = (field: string) => errors[field] ?? serverErrors[field];

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = readMerchantFields(new FormData(event.currentTarget));
    setErrors(result.errors);
    if (result.fields) props.onSubmit(result.fields);
  }

  return (
    <form className="form" onSubmit={submit} onInput={props.onEdit} noValidate>
      {TEXT_FIELDS.map((field) => (
        <Field
          key={field.name}
          {...field}
          defaultValue={
            field.name === "timeZone"
              ? (initial?.timeZone ?? "Europe/Amsterdam")
              : initial?.[field.name]
          }
          autoComplete="off"
          required
          errors={shown(field.name)}
        />
      ))}
      <fieldset aria-describedby={hintId}>
        <legend>Location on the map</legend>
        <div className="form-pair">
          {(["lat", "lng"] as const).map((axis) => (
            <Field
              key={axis}
              label={axis === "lat" ? "Latitude" : "Longitude"}
              name={axis}
              type="number"
              inputMode="decimal"
              step="any"
              min={axis === "lat" ? -90 : -180}
              max={axis === "lat" ? 90 : 180}
              defaultValue={initial?.location[axis]}
              required
              errors={shown(axis)}
            />
          ))}
        </div>
        <span className="field-hint" id={hintId}>
          Decimal degrees, as a map app shows them when you click the shop: central Amsterdam is
          about 52.3731, 4.8922. {props.locationHint}
        </span>
        {serverErrors.location && (
          <span className="field-error">{serverErrors.location.join(". ")}</span>
        )}
      </fieldset>
      <ErrorNote error={error} />
      <div className="form-actions">
        <button type="submit" className="button" disabled={props.pending}>
          {props.pending ? "Saving…" : props.submitLabel}
        </button>
        {props.status}
      </div>
    </form>
  );
}

"use client";

import { type FormEvent, type ReactNode, useEffect, useMemo, useRef, useState } from "react";
import type { DealField } from "@/lib/deals/deal-rules";
import {
  type DealFormValues,
  type DealInput,
  FIELD_LABELS,
  FIELD_OF_INPUT,
} from "./deal-form-values";
import "./deal-form.css";

/** Field → messages, from the client check or the server's `fieldErrors`. */
export type FormProblems = Partial<Record<string, string[] | undefined>>;

/** The input a problem's link jumps to. */
const INPUT_OF_FIELD: Partial<Record<string, string>> = {
  priceCents: "price",
  originalPriceCents: "originalPrice",
  location: "lat",
  merchantId: "merchant",
};
/** Latitude and longitude can fail alike; their location says it once. */
function withoutRepeats(problems: FormProblems): FormProblems {
  return Object.fromEntries(
    Object.entries(problems).map(([field, messages]) => [field, [...new Set(messages)]]),
  );
}

/** Problems listed in the order their fields stand in the form. */
const FORM_ORDER = ["merchantId", ...Object.keys(FIELD_LABELS)];
const orderOf = (field: string) => {
  const at = FORM_ORDER.indexOf(field);
  return at < 0 ? FORM_ORDER.length : at;
};
const labelOf = (field: string) =>
  field === "merchantId" ? "Merchant" : (FIELD_LABELS[field as DealField] ?? field);

interface DealFormProps {
  values: DealFormValues;
  onChange: (input: DealInput, value: string) => void;
  problems: FormProblems;
  /** A refusal that names no field (a conflict, a lost connection). */
  message: string | null;
  /** The deal cannot change at all any more: why. */
  closed: string | null;
  /** Inputs the deal's phase closes, with why. */
  locked: Partial<Record<DealInput, string>>;
  hints?: Partial<Record<DealInput, string>>;
  minQuantity?: number;
  submitLabel: string;
  pending: boolean;
  onSubmit: () => void;
  /** Shown after the button: what the last save did. */
  notice?: ReactNode;
  /** Inputs above the deal's own (the merchant of an admin's new deal). */
  leading?: ReactNode;
}

/** The deal's fields for creating and editing, with each problem beside its field. */
export function DealForm(props: DealFormProps) {
  const { values, onChange, message, closed, locked, pending } = props;
  const problems = useMemo(() => withoutRepeats(props.problems), [props.problems]);
  const summary = useRef<HTMLDivElement>(null);
  const [locating, setLocating] = useState<string | null>(null);
  const listed = Object.entries(problems)
    .filter(([, messages]) => messages?.length)
    .sort(([a], [b]) => orderOf(a) - orderOf(b));

  const hasSummary = listed.length > 0 || message !== null;
  // Each failed submit (a new problems object) moves focus to the list of what to fix.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when new problems arrive
  useEffect(() => {
    if (hasSummary) summary.current?.focus();
  }, [problems, message]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    props.onSubmit();
  }

  function fillDeviceLocation() {
    if (!navigator.geolocation) {
      setLocating("this browser cannot tell its location");
      return;
    }
    setLocating("finding this device's location…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        onChange("lat", position.coords.latitude.toFixed(6));
        onChange("lng", position.coords.longitude.toFixed(6));
        setLocating(null);
      },
      (error) => setLocating(`no location: ${error.message}`),
      { enableHighAccuracy: true, timeout: 10_000 },
    );
  }

  function field(
    input: DealInput,
    label: string,
    options: {
      type?: string;
      inputMode?: "decimal" | "numeric";
      optional?: boolean;
      hint?: string;
      min?: number;
      step?: string;
      textarea?: boolean;
    } = {},
  ) {
    const id = `deal-${input}`;
    const fieldName = FIELD_OF_INPUT[input];
    // The location's messages stand once, under both of its inputs.
    const errors = fieldName === "location" ? undefined : problems[fieldName];
    const lockedReason = locked[input];
    const hint = lockedReason ?? props.hints?.[input] ?? options.hint;
    const describedBy = [hint && `${id}-hint`, errors?.length && `${id}-error`]
      .filter(Boolean)
      .join(" ");
    const common = {
      id,
      name: input,
      value: values[input],
      disabled: lockedReason !== undefined,
      "aria-invalid": errors?.length ? true : undefined,
      "aria-describedby": describedBy || undefined,
      onChange: (event: { currentTarget: { value: string } }) =>
        onChange(input, event.currentTarget.value),
    };
    return (
      <div className="field">
        <label htmlFor={id}>
          {label}
          {options.optional && <span className="field-optional"> (optional)</span>}
        </label>
        {options.textarea ? (
          <textarea {...common} rows={3} />
        ) : (
          <input
            {...common}
            type={options.type ?? "text"}
            inputMode={options.inputMode}
            min={input === "quantity" ? props.minQuantity : options.min}
            step={options.step}
          />
        )}
        {hint && (
          <p id={`${id}-hint`} className={lockedReason ? "field-hint field-locked" : "field-hint"}>
            {hint}
          </p>
        )}
        {errors?.map((error) => (
          <p key={error} id={`${id}-error`} className="field-error">
            {error}
          </p>
        ))}
      </div>
    );
  }

  return (
    <form className="form deal-form" noValidate onSubmit={submit}>
      {hasSummary && (
        <div ref={summary} className="form-summary" role="alert" tabIndex={-1}>
          <p>
            <strong>The deal was not saved.</strong> {listed.length > 0 ? "Please fix:" : message}
          </p>
          {listed.length > 0 && (
            <ul>
              {listed.map(([fieldName, messages]) => (
                <li key={fieldName}>
                  <a href={`#deal-${INPUT_OF_FIELD[fieldName] ?? fieldName}`}>
                    {labelOf(fieldName)}: {messages?.join("; ")}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {closed && <p className="form-closed">{closed}</p>}
      <fieldset className="form-fields" disabled={closed !== null}>
        {props.leading}
        {field("title", "Title")}
        {field("description", "Description", { textarea: true, optional: true })}
        {field("finePrint", "Fine print", {
          textarea: true,
          optional: true,
          hint: "conditions shoppers read before they claim",
        })}
        <div className="form-row">
          {field("price", "Price (€)", { inputMode: "decimal", hint: "0 makes it free" })}
          {field("originalPrice", "Original price (€)", {
            inputMode: "decimal",
            optional: true,
            hint: "shown struck through",
          })}
          {field("quantity", "Quantity", { type: "number", inputMode: "numeric", min: 1 })}
        </div>
        <div className="form-row">
          {field("startsAt", "Sale starts", { type: "datetime-local" })}
          {field("endsAt", "Sale ends", { type: "datetime-local" })}
          {field("voucherValidUntil", "Vouchers valid until", { type: "datetime-local" })}
        </div>
        <div className="form-row">
          {field("pickupStartsAt", "Pickup from", {
            type: "datetime-local",
            optional: true,
            hint: "when vouchers can be collected (this device's time)",
          })}
          {field("pickupEndsAt", "Pickup until", { type: "datetime-local", optional: true })}
        </div>
        <fieldset className="form-location" aria-describedby="deal-location-error">
          <legend>Location</legend>
          <div className="form-row">
            {field("lat", "Latitude", { type: "number", step: "any" })}
            {field("lng", "Longitude", { type: "number", step: "any" })}
            {field("geofenceRadiusM", "Geo-fence radius (m)", {
              type: "number",
              inputMode: "numeric",
              optional: true,
              hint: "shoppers must be this close to claim",
            })}
          </div>
          {closed === null && (
            <p className="field-hint">
              <button type="button" className="link-button" onClick={fillDeviceLocation}>
                Use this device's location
              </button>
              {locating && <span aria-live="polite"> · {locating}</span>}
            </p>
          )}
          {problems.location?.map((error) => (
            <p key={error} id="deal-location-error" className="field-error">
              {error}
            </p>
          ))}
        </fieldset>
      </fieldset>
      {closed === null && (
        <div className="form-actions">
          <button type="submit" className="button" disabled={pending}>
            {pending ? "Saving…" : props.submitLabel}
          </button>
          {props.notice}
        </div>
      )}
    </form>
  );
}

import { z } from "zod";

const EARLIEST = new Date("1970-01-01T00:00:00.000Z");
const LATEST = new Date("9999-12-31T23:59:59.999Z");

/**
 * A date and time the database can store and compare. A JavaScript date reaches the year
 * 275760 (ISO `+275760-…`), which Postgres cannot parse, so outside these years a date is
 * bad input, refused here, rather than a failed query.
 */
export function timestampSchema(name: string) {
  const outOfRange = `${name} must be between the years 1970 and 9999`;
  return z
    .date({ error: `${name} must be a date and time` })
    .min(EARLIEST, outOfRange)
    .max(LATEST, outOfRange);
}

/** Half of a UTF-16 surrogate pair, alone: no character at all. */
const LONE_SURROGATE = /\p{Cs}/u;

interface TextLimits {
  /** The message when the field is missing or not text; zod's own when not given. */
  missing?: string;
  min?: [length: number, message: string];
  max: [length: number, message: string];
}

/**
 * Trimmed text within limits that Postgres can store, in a column or inside JSON (the audit
 * log's details): it has no room for U+0000 or for half a surrogate pair, so a string
 * holding either is bad input.
 */
export function storableText({ missing, min, max }: TextLimits) {
  const text = z.string(missing ? { error: missing } : undefined).trim();
  return (min ? text.min(...min) : text)
    .max(...max)
    .refine(
      (value) => !value.includes("\u0000") && !LONE_SURROGATE.test(value),
      "must be plain text, without NUL characters or broken Unicode",
    );
}

import fc from "fast-check";
import superjson from "superjson";
import { z } from "zod";

/** 100 KB: far past every string limit of the API. */
const HUGE_STRING = "x".repeat(100_000);

/** Real ids from the database, so that generated inputs also name things that exist. */
export interface KnownIds {
  ids: string[];
  kids: string[];
}

/** JSON text of a superjson envelope, as a tRPC client sends it (body, or `?input=`). */
export type Payload = string;

const sentinelRefused = Symbol("refused");

/** What a procedure receives from a payload, as tRPC decodes it; a symbol when decoding fails. */
function decodePayload(payload: Payload): unknown {
  try {
    return superjson.deserialize(JSON.parse(payload));
  } catch {
    return sentinelRefused;
  }
}

/** True when every input parser of the procedure accepts what the payload decodes to. */
export function inputAccepted(parsers: unknown[], payload: Payload): boolean {
  const input = decodePayload(payload);
  if (input === sentinelRefused) return false;
  return parsers.every((parser) => (parser as z.ZodType).safeParse(input).success);
}

/** What superjson makes of a value; it refuses `__proto__`-like keys, which travel as plain JSON. */
function serialized(value: unknown): { json: unknown } {
  try {
    return superjson.serialize(value);
  } catch {
    return { json: value };
  }
}

export function envelopeOf(value: unknown): Payload {
  return jsonText(serialized(value)) ?? '{"json":{"__proto__":{"polluted":true}}}';
}

const printable = fc.string({ unit: "binary", maxLength: 40 });

/** A value of the wrong kind for any field: every JSON kind, and what superjson adds. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  printable,
  fc.constant(HUGE_STRING),
  fc.double(), // NaN, ±Infinity and -0 travel as superjson meta
  fc.integer(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.date({ noInvalidDate: true }),
  fc.bigInt(),
  fc.constantFrom(new Map([["a", 1]]), new Set([1]), /x/g),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(printable, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** Strings of the right type at the edges: control characters, lone surrogates, bidi marks. */
const edgyString = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.constantFrom("\u0000", "a\u0000b", "\ud800", "\u202e", "' OR 1=1 --", " ", ""),
);

/** A value the schema accepts, or nearly: each field drawn within the schema's own limits. */
export function validShaped(schema: z.ZodType, known: KnownIds): fc.Arbitrary<unknown> {
  if (schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, z.ZodType>;
    return fc.record(
      Object.fromEntries(
        Object.entries(shape).map(([key, child]) => [key, validShaped(child, known)]),
      ),
    );
  }
  if (schema instanceof z.ZodOptional)
    return fc.option(validShaped(schema.unwrap() as z.ZodType, known), { nil: undefined });
  if (schema instanceof z.ZodNullable)
    return fc.option(validShaped(schema.unwrap() as z.ZodType, known), { nil: null });
  if (schema instanceof z.ZodArray)
    return fc.array(validShaped(schema.element as z.ZodType, known), { maxLength: 3 });
  if (schema instanceof z.ZodPipe) {
    const isEmail = (schema.out as { format?: string }).format === "email";
    return isEmail ? fc.emailAddress() : validShaped(schema.in as z.ZodType, known);
  }
  if (schema instanceof z.ZodEnum) return fc.constantFrom(...(schema.options as string[]));
  if (schema instanceof z.ZodDate) {
    return fc.oneof(
      fc.date({ noInvalidDate: true }),
      fc.constantFrom(new Date(8.64e15), new Date(-8.64e15), new Date(0)),
    );
  }
  if (schema instanceof z.ZodNumber) return validNumber(schema);
  if (schema instanceof z.ZodString) return validString(schema, known);
  return wrongValue;
}

function validNumber(schema: z.ZodNumber): fc.Arbitrary<number> {
  const min = schema.minValue ?? -1e9;
  const max = schema.maxValue ?? 1e9;
  const edges = fc.constantFrom(min, max);
  if (schema.isInt)
    return fc.oneof(
      edges,
      fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }),
    );
  return fc.oneof(edges, fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
}

function validString(schema: z.ZodString, known: KnownIds): fc.Arbitrary<string> {
  const pattern = (schema._zod.def.checks ?? [])
    .map((check) => (check._zod.def as { pattern?: RegExp }).pattern)
    .find((found) => found !== undefined);
  if (pattern) {
    const real = [...known.ids, ...known.kids].filter((id) => pattern.test(id));
    const matching = fc.stringMatching(pattern);
    return real.length > 0 ? fc.oneof(matching, fc.constantFrom(...real)) : matching;
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 300, 300);
  return fc.oneof(fc.string({ minLength, maxLength }), edgyString);
}

/** A value the schema refuses: one field (at any depth) wrong, missing, or the whole thing. */
export function brokenShaped(schema: z.ZodType, known: KnownIds): fc.Arbitrary<unknown> {
  if (!(schema instanceof z.ZodObject)) return wrongValue;
  const shape = schema.shape as Record<string, z.ZodType>;
  const keys = Object.keys(shape);
  const valid = validShaped(schema, known) as fc.Arbitrary<Record<string, unknown>>;
  const oneFieldBroken = keys.map((key) =>
    fc
      .tuple(valid, brokenShaped(unwrapped(shape[key] as z.ZodType), known))
      .map(([value, broken]) => ({ ...value, [key]: broken })),
  );
  const oneFieldMissing = fc
    .tuple(valid, fc.constantFrom(...keys))
    .map(([value, key]) => Object.fromEntries(Object.entries(value).filter(([k]) => k !== key)));
  return fc.oneof(wrongValue, oneFieldMissing, ...oneFieldBroken);
}

function unwrapped(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) {
    return unwrapped(schema.unwrap() as z.ZodType);
  }
  return schema;
}

/** Prototype-polluting keys put in front of a value's own JSON. */
function withPollutingKeys(value: unknown): Payload {
  const { json } = serialized(value);
  const isObject = json !== null && typeof json === "object" && !Array.isArray(json);
  const own = isObject ? (jsonText(json) ?? "{}").slice(1, -1) : "";
  const polluting = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}';
  return `{"json":{${polluting}${own ? `,${own}` : ""}}}`;
}

/** JSON text of a generated value, a BigInt (JSON has none) as its digits, nothing as "". */
export const bodyText = (value: unknown): string =>
  JSON.stringify(value, (_, v) => (typeof v === "bigint" ? String(v) : v)) ?? "";

function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // a BigInt that superjson would not take either
  }
}

function nested(depth: number, open: string, close: string): Payload {
  return `{"json":${open.repeat(depth)}1${close.repeat(depth)}}`;
}

/** Extremes: 100 KB strings, nesting thousands deep, `__proto__` keys, NaN and Infinity. */
export function extremePayloads(
  schema: z.ZodType | undefined,
  known: KnownIds,
): fc.Arbitrary<Payload> {
  const shaped = schema
    ? fc.oneof(validShaped(schema, known), brokenShaped(schema, known))
    : wrongValue;
  const depth = fc.integer({ min: 500, max: 20_000 });
  return fc.oneof(
    fc.constant(envelopeOf(HUGE_STRING)),
    shaped.map(withPollutingKeys),
    depth.map((d) => nested(d, "[", "]")),
    depth.map((d) => nested(d, '{"a":', "}")),
    fc
      .constantFrom(NaN, Infinity, -Infinity, -0)
      .map((n) => envelopeOf({ lat: n, lng: n, radiusKm: n, quantity: n })),
  );
}

/** Superjson envelopes whose `meta` lies about the JSON or tries to reach a prototype. */
export function brokenMetaPayloads(
  schema: z.ZodType | undefined,
  known: KnownIds,
): fc.Arbitrary<Payload> {
  const json = schema ? validShaped(schema, known).map((v) => serialized(v).json) : fc.jsonValue();
  const type = fc.constantFrom<unknown>(
    ...["Date", "number", "bigint", "regexp", "set", "map", "undefined", "nope", 1],
    ...[["class", "Nope"], ["symbol", "nope"], ["custom", "nope"], []],
  );
  const node = type.map((annotation) => [annotation]);
  const path = fc.oneof(
    fc.constantFrom("__proto__", "constructor.prototype", "a.__proto__.polluted", "prototype", "0"),
    printable,
  );
  const meta = fc.oneof(
    { arbitrary: node.map((values) => ({ values })), weight: 3 },
    {
      arbitrary: fc
        .dictionary(path, node, { minKeys: 1, maxKeys: 3 })
        .map((values) => ({ values })),
      weight: 4,
    },
    {
      arbitrary: fc
        .dictionary(path, fc.array(path, { maxLength: 2 }), { minKeys: 1, maxKeys: 2 })
        .map((referentialEqualities) => ({ referentialEqualities })),
      weight: 2,
    },
    // Meta of another type altogether; with no strings in it, none is a DEGENERATE_META.
    {
      arbitrary: fc.jsonValue({ maxDepth: 3 }).filter((m) => !JSON.stringify(m).includes('"')),
      weight: 1,
    },
  );
  return fc.tuple(json, meta).map(([j, m]) => JSON.stringify({ json: j, meta: m }));
}

/**
 * Meta trees with a string where a subtree belongs (`["Date", "x"]`) make superjson walk the
 * string's characters until the stack overflows: a 400, but ~10 ms of CPU (~300 ms under
 * vitest), so the fuzzing leaves them to DEGENERATE_META, sent a few times only.
 */
export const DEGENERATE_META = [{ values: ["Date", "x"] }, { values: { a: ["Date", { b: "c" }] } }];

/** Arbitrary JSON, as a superjson envelope or bare (which decodes to no input at all). */
export const jsonPayloads: fc.Arbitrary<Payload> = fc.oneof(
  fc.jsonValue().map((json) => JSON.stringify({ json })),
  fc.jsonValue().map((json) => JSON.stringify(json)),
);

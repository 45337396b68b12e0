import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import type { z } from "zod";
import { type FuzzWorld, openFuzzWorld, ROLES } from "@/testing/fuzz-world";
import { callSpec } from "@/testing/hostile-http";
import { envelopeOf, validShaped } from "@/testing/hostile-input";
import { proceduresOf } from "@/testing/router-procedures";
import { assertProperty, problemWithAnswer } from "@/testing/typed-answer";
import { appRouter } from "./root";

/**
 * Input that passes every schema but sits at the edges (NUL and lone surrogates in text,
 * dates in the year 275760, numbers at their limits, real and unknown ids) reaches the
 * services as any role, and is answered or refused with a typed error, never a 5xx. These
 * calls may change state; fuzz.test.ts checks that refused input changes nothing.
 * A subscription is judged by its first message, then closed.
 */
const RUNS = 20;

let world: FuzzWorld;
beforeAll(async () => {
  world = await openFuzzWorld();
});
afterAll(() => world?.close());

const withInput = [...proceduresOf(appRouter).values()].filter(({ parsers }) => parsers.length > 0);

describe("valid-shaped edge inputs never get a 5xx", () => {
  for (const procedure of withInput) {
    it(procedure.path, async () => {
      const input = validShaped(procedure.parsers[0] as z.ZodType, world.known).map(envelopeOf);
      await assertProperty(
        `${procedure.path}, valid-shaped`,
        fc.tuple(input, fc.constantFrom(...ROLES)),
        async ([payload, role]) => {
          const spec = callSpec(procedure.path, procedure.type, payload);
          return problemWithAnswer(await world.send(spec, world.headersOf[role]), spec, () => true);
        },
        RUNS,
      );
    });
  }
});

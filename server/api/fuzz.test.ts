import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  badCookieHeaders,
  badDeviceCredentials,
  forgedSessionTokens,
} from "@/testing/forged-credentials";
import {
  type FuzzWorld,
  openFuzzWorld,
  ROLES,
  type Role,
  SESSION_SECRET,
} from "@/testing/fuzz-world";
import { callSpec, malformedRequests, plainRequests, rawRequestInit } from "@/testing/hostile-http";
import {
  brokenMetaPayloads,
  brokenShaped,
  DEGENERATE_META,
  envelopeOf,
  extremePayloads,
  inputAccepted,
  jsonPayloads,
  type Payload,
  validShaped,
} from "@/testing/hostile-input";
import {
  type Procedure,
  proceduresOf,
  refusable,
  successAllowed,
} from "@/testing/router-procedures";
import { fingerprintState } from "@/testing/state-fingerprint";
import {
  assertProperty,
  headerBytes,
  judgeAnswer,
  NODE_HEADER_LIMIT,
  problemWithAnswer,
  problemWithPlainAnswer,
} from "@/testing/typed-answer";
import { appRouter } from "./root";

/**
 * DESIGN invariant 8: bad input anywhere gets a typed 4xx (tRPC code and a plain message),
 * never a 5xx, and changes nothing. Every procedure of the router is fuzzed as every role,
 * over HTTP through the edge (server/http/http-edge.ts): with hostile bodies, content types,
 * batches (past the cap too), headers (foreign Origin, Sec-Fetch-Site, X-Forwarded-For) and
 * cookies. So are the plain routes (the claim route, live stock, metrics) and the pages the
 * edge would hand to Next. `FUZZ_SCALE=20` runs twenty times as many cases.
 */

/**
 * Mutations without an input parser ignore whatever is sent and act, so they are fuzzed only
 * as the roles that would be refused; listed here are the roles for which a call would act.
 */
const ACT_ON_ANY_INPUT: Record<string, Role[]> = {
  // Each ends the caller's session (or all of its account's) on the server.
  "auth.signOut": ["shopper", "staff", "admin"],
  "auth.signOutEverywhere": ["shopper", "staff", "admin"],
  "admin.stageSigningKey": ["admin"],
  "admin.activateSigningKey": ["admin"],
};

/** Procedures this file does not fuzz, each with its reason. None at present. */
const SKIPPED: Record<string, string> = {};

/** Runs per procedure, per role and per kind of bad input (the claim route gets CLAIM_FACTOR x). */
const RUNS = { json: 8, shaped: 12, extreme: 5, meta: 6, http: 8, credentials: 25, plain: 1_500 };
const CLAIM_FACTOR = 4;

let world: FuzzWorld;
let forged: string[];
let stateBefore: Record<string, string>;
const byPath = proceduresOf(appRouter);
const procedures = [...byPath.values()];

beforeAll(async () => {
  world = await openFuzzWorld();
  forged = await forgedSessionTokens(SESSION_SECRET, world.staffToken);
  const { database, services, prefix } = world;
  stateBefore = await fingerprintState(database.db, services.redis, prefix);
});
afterAll(() => world?.close());

function payloadKinds(procedure: Procedure): [string, fc.Arbitrary<Payload>, number][] {
  const schema = procedure.parsers[0];
  const shaped = schema
    ? fc.oneof(validShaped(schema, world.known), brokenShaped(schema, world.known)).map(envelopeOf)
    : jsonPayloads;
  return [
    ["arbitrary JSON", jsonPayloads, RUNS.json],
    ["the real shape with wrong fields", shaped, RUNS.shaped],
    ["extremes", extremePayloads(schema, world.known), RUNS.extreme],
    ["broken superjson meta", brokenMetaPayloads(schema, world.known), RUNS.meta],
  ];
}

async function fuzzProcedure(procedure: Procedure) {
  const { path, type } = procedure;
  const factor = path === "claims.claim" ? CLAIM_FACTOR : 1;
  const kinds = payloadKinds(procedure);
  // Cheap inputs: the HTTP around them is what is wrong.
  const inputs = fc.oneof(...kinds.slice(0, 2).map(([, payloads]) => payloads));
  const invalid =
    procedure.parsers.length === 0
      ? inputs
      : inputs.filter((payload) => !inputAccepted(procedure.parsers, payload));
  const roles = ROLES.filter((role) => !ACT_ON_ANY_INPUT[path]?.includes(role));
  for (const role of roles) {
    for (const [kind, payloads, runs] of kinds) {
      await assertProperty(
        `${path} as ${role}, ${kind}`,
        refusable(procedure, payloads),
        async (payload) => {
          const spec = callSpec(path, type, payload);
          return problemWithAnswer(
            await world.send(spec, world.headersOf[role]),
            spec,
            successAllowed(byPath, procedure, payload),
          );
        },
        runs * factor,
      );
    }
    await assertProperty(
      `${path} as ${role}, malformed HTTP`,
      malformedRequests(path, type, invalid),
      async (spec) =>
        problemWithAnswer(
          await world.send(spec, world.headersOf[role]),
          spec,
          successAllowed(byPath, procedure),
        ),
      RUNS.http * factor,
    );
  }
  const credentials = fc.record(
    {
      cookie: badCookieHeaders(forged),
      "x-device-credential": badDeviceCredentials(world.deviceCredential),
    },
    { requiredKeys: [] },
  );
  const anonymous = world.headersOf.anonymous;
  await assertProperty(
    `${path} with bad credentials`,
    fc.tuple(refusable(procedure, kinds[1]?.[1] ?? jsonPayloads), credentials),
    async ([payload, headers]) => {
      const spec = callSpec(path, type, payload);
      const allowed = successAllowed(byPath, procedure, payload);
      const sent = { ...anonymous, ...headers };
      const forged = await judgeAnswer(await world.send(spec, sent), spec, allowed);
      // Past node's header limit the edge answers 431 before any route (typed-answer.ts).
      if (headerBytes(sent) > NODE_HEADER_LIMIT) {
        return forged.outcome === "431 431" ? forged.problem : `got ${forged.outcome}, not 431`;
      }
      const none = await judgeAnswer(await world.send(spec, anonymous), spec, allowed);
      if (forged.outcome !== none.outcome) {
        return `bad credentials got ${forged.outcome}, no credentials ${none.outcome}`;
      }
      return forged.problem;
    },
    RUNS.credentials * factor,
  );
}

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);

describe("bad input everywhere: typed 4xx, never a 5xx, no state change", () => {
  it("fuzzes every procedure of the router, or says why not", () => {
    const paths = procedures.map(({ path }) => path);
    const inputless = procedures.filter((p) => p.type === "mutation" && p.parsers.length === 0);
    expect(inputless.map(({ path }) => path).sort()).toEqual(Object.keys(ACT_ON_ANY_INPUT).sort());
    expect(Object.keys(SKIPPED).filter((path) => !paths.includes(path))).toEqual([]);
    expect(paths.length).toBeGreaterThan(30);
  });

  for (const procedure of procedures.filter(({ path }) => !(path in SKIPPED))) {
    it(`${procedure.path} (${procedure.type})`, () => fuzzProcedure(procedure));
  }

  it("claims.claim: a well-formed claim for a deal that does not exist is a 404 and changes nothing", async () => {
    const claims = byPath.get("claims.claim") as Procedure;
    const input = validShaped(claims.parsers[0] as z.ZodType, { ids: [], kids: [] });
    await assertProperty(
      "claims.claim, unknown deals",
      input.map(envelopeOf).filter((payload) => inputAccepted(claims.parsers, payload)),
      async (payload) => {
        const spec = callSpec("claims.claim", "mutation", payload);
        const answer = await world.send(spec, world.headersOf.shopper);
        if (![404, 429].includes(answer.status)) return `status ${answer.status}`;
        return problemWithAnswer(answer, spec, () => false);
      },
      RUNS.shaped * CLAIM_FACTOR,
    );
  });

  it("claims.claim: a well-formed claim for a real deal by anyone but a shopper changes nothing", async () => {
    const claims = byPath.get("claims.claim") as Procedure;
    const input = validShaped(claims.parsers[0] as z.ZodType, world.known).map(envelopeOf);
    const notShoppers = ROLES.filter((role) => role !== "shopper");
    await assertProperty(
      "claims.claim, refused roles",
      fc.tuple(input, fc.constantFrom(...notShoppers)),
      async ([payload, role]) => {
        const spec = callSpec("claims.claim", "mutation", payload);
        return problemWithAnswer(await world.send(spec, world.headersOf[role]), spec, () => false);
      },
      RUNS.shaped * CLAIM_FACTOR,
    );
  });

  it("meta that sends superjson walking a string is a 400 (slow to refuse: see DEGENERATE_META)", async () => {
    const calls: [string, Role, unknown][] = [
      ["claims.claim", "shopper", { dealId: "AAAAAAAAAAAA", idempotencyKey: "degenerate-meta" }],
      ["deals.byId", "anonymous", { dealId: "AAAAAAAAAAAA" }],
    ];
    for (const [path, role, json] of calls) {
      const procedure = byPath.get(path) as Procedure;
      for (const meta of DEGENERATE_META) {
        const spec = callSpec(path, procedure.type, JSON.stringify({ json, meta }));
        const answer = await world.send(spec, world.headersOf[role]);
        expect(answer.status).toBe(400);
        expect(await problemWithAnswer(answer, spec, () => false)).toBeNull();
      }
    }
  });

  it("the plain routes and pages: any method, path, headers, cookies and body get a typed 4xx, never a 5xx", async () => {
    const { headersOf, known } = world;
    const cookies = fc.oneof(
      fc.constantFrom(...ROLES.map((role) => headersOf[role].cookie).filter(Boolean)),
      badCookieHeaders(forged),
    ) as fc.Arbitrary<string>;
    const dealIds = known.ids.slice(0, 20);
    await assertProperty(
      "plain routes",
      plainRequests(known, dealIds, cookies),
      async (request) => {
        const url = `${world.baseUrl}${request.path}`;
        return problemWithPlainAnswer(await fetch(url, rawRequestInit(request)), request);
      },
      RUNS.plain,
    );
  });

  it("changed no row and no lasting Redis key, and polluted no prototype", async () => {
    const { database, services, prefix } = world;
    expect(await fingerprintState(database.db, services.redis, prefix)).toEqual(stateBefore);
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

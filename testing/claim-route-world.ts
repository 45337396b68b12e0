import superjson from "superjson";
import { deals } from "@/db/schema";
import { CLAIM_ROUTE, postClaim } from "@/lib/claims/claim-client";
import type { ClaimInput, ClaimResult } from "@/lib/claims/claim-contract";
import { ApiRequestError } from "@/lib/wire/read-api-error";
import { CLAIM_LIMITS } from "@/server/claims/claim-limits";
import { type FuzzWorld, openFuzzWorld } from "./fuzz-world";
import { callSpec, type RawRequest, rawRequestInit } from "./hostile-http";
import { envelopeOf } from "./hostile-input";
import { createDeal, createShoppers } from "./sale-fixtures";
import { fingerprintState } from "./state-fingerprint";

/** One claim's answer, as the lean route and the tRPC procedure can both be read. */
export interface ClaimAnswer {
  status: number;
  result?: ClaimResult;
  error?: {
    code: string;
    domainCode?: string;
    message: string;
    fieldErrors?: Record<string, string[]>;
    retryAfterMs?: number;
  };
}

export interface ClaimRouteWorld extends FuzzWorld {
  /** `POST /api/claim` on the fuzz world's HTTP edge. */
  routeUrl: string;
  /** The demo sale's deals, and two of the fixtures' (one ended, one fenced 500 m around the shop). */
  deals: Record<"free" | "priced" | "soldOut" | "notStarted" | "ended" | "fenced", string>;
  /** A new shopper account (a row in `users`) and the headers of its session. */
  newShopper(): Promise<Record<string, string>>;
  /** Claims through the lean route with the browser client, refusals caught. */
  viaRoute(input: unknown, headers: Record<string, string>): Promise<ClaimAnswer>;
  /** Claims through `claims.claim` on the tRPC HTTP handler. */
  viaTrpc(input: unknown, headers: Record<string, string>): Promise<ClaimAnswer>;
  /** Sends a raw request to the claim route over HTTP. */
  sendToNode(request: RawClaimRequest): Promise<Response>;
  /** fingerprintState, less the attempt counters of the gate (see lastingState). */
  lastingState(): Promise<Record<string, string>>;
}

/** A request to the claim route as it goes on the wire, whatever is wrong with it. */
export type RawClaimRequest = RawRequest;

/**
 * The fuzz world (seeded demo sale, every role signed in, real Postgres and Redis, the HTTP
 * edge on a loopback port, as the production servers serve it), with two more deals from
 * the fixtures.
 */
export async function openClaimRouteWorld(): Promise<ClaimRouteWorld> {
  const world = await openFuzzWorld();
  try {
    return await withRoute(world);
  } catch (error) {
    await world.close();
    throw error;
  }
}

async function withRoute(world: FuzzWorld): Promise<ClaimRouteWorld> {
  const { db } = world.database;
  const { baseUrl } = world;

  const now = new Date();
  const seeded = await db.select().from(deals);
  const seededDeal = (test: (deal: (typeof seeded)[number]) => boolean) => {
    const found = seeded.find(test);
    if (!found) throw new Error("the demo seed changed: a deal the claim route tests use is gone");
    return found;
  };
  const live = (deal: (typeof seeded)[number]) => deal.startsAt <= now && deal.endsAt > now;
  const free = seededDeal((d) => live(d) && d.priceCents === 0 && d.sold < d.quantity);
  const fixture = { quantity: 10, now };
  const merchantId = free.merchantId;

  let shopperCount = 0;
  const newShopper = async () => {
    const [userId = ""] = await createShoppers(db, 1);
    shopperCount += 1;
    const token = await world.services.sessions.issue({
      userId,
      role: "shopper",
      displayName: `Route shopper ${shopperCount}`,
    });
    // Each from an address of its own (TEST-NET-3), apart from the demo roles' (198.51.100.x),
    // named through the fuzz world's declared proxy hop.
    const address = `203.0.113.${shopperCount % 250}`;
    return { cookie: `dd_session=${token}`, "x-forwarded-for": address };
  };

  return {
    ...world,
    routeUrl: `${baseUrl}${CLAIM_ROUTE}`,
    deals: {
      free: free.id,
      priced: seededDeal((d) => live(d) && d.priceCents > 0).id,
      soldOut: seededDeal((d) => live(d) && d.sold >= d.quantity).id,
      notStarted: seededDeal((d) => d.startsAt > now).id,
      ended: (await createDeal(db, merchantId, { ...fixture, startsInMinutes: -120 })).id,
      fenced: (await createDeal(db, merchantId, { ...fixture, geofenceRadiusM: 500 })).id,
    },
    newShopper,
    viaRoute: (input, headers) => claimViaRoute(baseUrl, input, headers),
    viaTrpc: async (input, headers) =>
      answerOfTrpc(
        await world.send(callSpec("claims.claim", "mutation", envelopeOf(input)), headers),
      ),
    sendToNode: (request) => fetch(`${baseUrl}${CLAIM_ROUTE}`, rawRequestInit(request)),
    lastingState: () => lastingState(world),
  };
}

async function claimViaRoute(
  baseUrl: string,
  input: unknown,
  headers: Record<string, string>,
): Promise<ClaimAnswer> {
  try {
    return { status: 200, result: await postClaim(input as ClaimInput, { baseUrl, headers }) };
  } catch (error) {
    if (!(error instanceof ApiRequestError)) throw error;
    return { status: error.status, error: error.error };
  }
}

interface TrpcErrorShape {
  message: string;
  data: {
    code: string;
    domainCode?: string;
    fieldErrors?: Record<string, string[]>;
    retryAfterMs?: number;
  };
}

async function answerOfTrpc(response: Response): Promise<ClaimAnswer> {
  const body = (await response.json()) as {
    result?: { data: Parameters<typeof superjson.deserialize>[0] };
    error?: Parameters<typeof superjson.deserialize>[0];
  };
  if (body.result) {
    return {
      status: response.status,
      result: superjson.deserialize<ClaimResult>(body.result.data),
    };
  }
  const { message, data } = superjson.deserialize<TrpcErrorShape>(body.error ?? { json: null });
  const { code, domainCode, fieldErrors, retryAfterMs } = data;
  return {
    status: response.status,
    error: { code, domainCode, message, fieldErrors, retryAfterMs },
  };
}

/** A gate's attempt counter (claim.lua's KEYS[5] and KEYS[6]): `{deal:ID}:rl:u:…`, `…:rl:ip:…`. */
const ATTEMPT_COUNTER = /^redis (\{deal:[^}]*\}:rl:(?:u|ip):.*)$/s;

/**
 * fingerprintState counts the gate's per-deal attempt counters as lasting (its volatile rule
 * names only the top-level `rl:` of the sign-in limiter), but every attempt that reaches the
 * gate bumps one, refused or not, and they expire a window later. So they are left out here,
 * and only while they behave as claim.lua promises: a TTL within the window, or already gone.
 * A counter without a TTL would outlive its window, and stays in the fingerprint.
 */
async function lastingState(world: FuzzWorld): Promise<Record<string, string>> {
  const { database, services, prefix } = world;
  const state = await fingerprintState(database.db, services.redis, prefix);
  for (const name of Object.keys(state)) {
    const key = ATTEMPT_COUNTER.exec(name)?.[1];
    if (!key || !services.redis) continue;
    const ttl = await services.redis.pttl(`${prefix}${key}`);
    if (ttl === -2 || (ttl > 0 && ttl <= CLAIM_LIMITS.windowMs)) delete state[name];
  }
  return state;
}

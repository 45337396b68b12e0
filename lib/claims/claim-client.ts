import { type Challenge, solveChallenge } from "../bots/proof-of-work";
import type { ClaimInput, ClaimResult } from "./claim-contract";

/**
 * The lean claim route (server/http/claim-route.ts): a claim served without Next's or tRPC's
 * per-request pipeline, because it is the one request a flash sale sends thousands of times
 * a second. Same session cookie, same input schema, same outcomes as `claims.claim`.
 *
 * Request: `POST /api/claim`, `Content-Type: application/json`, body a ClaimInput.
 * Answer: 200 `{ result: ClaimResult }`, or a 4xx/5xx `{ error: ClaimRouteError }` (with a
 * `Retry-After` header on 429 and 503).
 */
export const CLAIM_ROUTE = "/api/claim";

/** Shaped like a tRPC error's data, so a caller handles both the same way. */
export interface ClaimRouteError {
  /** The tRPC code the same error has on `claims.claim` (TOO_MANY_REQUESTS, BAD_REQUEST, …). */
  code: string;
  /** The domain's code (RATE_LIMITED, OUT_OF_AREA, …) when the claim service refused. */
  domainCode?: string;
  message: string;
  fieldErrors?: Record<string, string[]>;
  retryAfterMs?: number;
}

export class ClaimRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: ClaimRouteError,
  ) {
    super(error.message);
    this.name = "ClaimRequestError";
  }
}

/** Sends one claim to the lean route; answers the result or throws a ClaimRequestError. */
export async function postClaim(
  input: ClaimInput,
  options: { baseUrl?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ClaimResult> {
  let response: Response;
  try {
    response = await fetch(`${options.baseUrl ?? ""}${CLAIM_ROUTE}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify(input),
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch {
    throw new ClaimRequestError(0, {
      code: "NETWORK",
      message: "The claim did not reach us: check your connection and try again.",
    });
  }
  const answer = (await response.json().catch(() => null)) as
    | { result: ClaimResult & { reservedUntil?: string | null } }
    | { error: ClaimRouteError }
    | null;
  if (response.ok && answer && "result" in answer) return reviveDates(answer.result);
  throw new ClaimRequestError(
    response.status,
    answer && "error" in answer
      ? answer.error
      : { code: "INTERNAL_SERVER_ERROR", message: `The claim failed (HTTP ${response.status}).` },
  );
}

/**
 * postClaim, and when the server asks a proof of work first (CHALLENGE_REQUIRED: many claims
 * came from this address or account this minute), the same claim again with the puzzle's
 * answer: the shopper waits about a second longer and sees nothing else.
 */
export async function postClaimAnsweringChallenge(
  input: ClaimInput,
  fetchChallenge: () => Promise<Challenge>,
  options: Parameters<typeof postClaim>[1] = {},
): Promise<ClaimResult> {
  try {
    return await postClaim(input, options);
  } catch (error) {
    if (!(error instanceof ClaimRequestError) || error.error.domainCode !== "CHALLENGE_REQUIRED") {
      throw error;
    }
    const proof = await solveChallenge(await fetchChallenge());
    if (!proof) throw error;
    return postClaim({ ...input, proof }, options);
  }
}

/** JSON carries the reservation deadline as text; the contract's type says Date. */
function reviveDates(result: ClaimResult & { reservedUntil?: string | Date | null }): ClaimResult {
  if (result.outcome !== "WON") return result;
  return { ...result, reservedUntil: result.reservedUntil ? new Date(result.reservedUntil) : null };
}

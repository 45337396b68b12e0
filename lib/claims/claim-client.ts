import { type Challenge, solveChallenge } from "../bots/proof-of-work";
import type { ApiErrorBody } from "../wire/error-contract";
import { ApiRequestError } from "../wire/read-api-error";
import type { ClaimInput, ClaimResult } from "./claim-contract";

/**
 * The lean claim route (server/http/claim-route.ts): a claim served without Next's or tRPC's
 * per-request pipeline, because it is the one request a flash sale sends thousands of times
 * a second. Same session cookie, same input schema, same outcomes as `claims.claim`.
 *
 * Request: `POST /api/claim`, `Content-Type: application/json`, body a ClaimInput.
 * Answer: 200 `{ result: ClaimResult }`, or a 4xx/5xx `{ error: ApiErrorBody }` (with a
 * `Retry-After` header on 429 and 503).
 */
export const CLAIM_ROUTE = "/api/claim";

/** Sends one claim to the lean route; answers the result or throws an ApiRequestError. */
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
    throw new ApiRequestError(0, {
      code: "NETWORK",
      message: "The claim did not reach us: check your connection and try again.",
    });
  }
  const answer = (await response.json().catch(() => null)) as
    | { result: ClaimResult & { reservedUntil?: string | null } }
    | { error: ApiErrorBody }
    | null;
  if (response.ok && answer && "result" in answer) return reviveDates(answer.result);
  throw new ApiRequestError(
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
    if (!(error instanceof ApiRequestError) || error.error.domainCode !== "CHALLENGE_REQUIRED") {
      throw error;
    }
    const proof = await solveChallenge(await fetchChallenge());
    if (!proof) throw error;
    return postClaim({ ...input, proof }, options);
  }
}

/** How long the claim button keeps retrying a busy gate before it shows the error. */
const BUSY_BUDGET_MS = 20_000;
/** A 503 that names no delay is retried after this. */
const BUSY_DEFAULT_MS = 1_000;

/**
 * `send`, retried while the server answers 503 (the gate shed the claim, or its row is still
 * being written) after the delay it asks for (`retryAfterMs`, also `Retry-After`), up to
 * BUSY_BUDGET_MS of waiting in all; `onBusy` hears each wait. The same idempotency key goes
 * every time, so a retry can never win twice. Any other answer is final.
 */
export async function retryWhileBusy<T>(
  send: () => Promise<T>,
  options: { onBusy?: (waitMs: number) => void; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const sleep = options.sleep ?? ((ms) => new Promise<void>((done) => setTimeout(done, ms)));
  let waited = 0;
  for (;;) {
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof ApiRequestError) || error.status !== 503) throw error;
      const waitMs = error.error.retryAfterMs ?? BUSY_DEFAULT_MS;
      if (waited + waitMs > BUSY_BUDGET_MS) throw error;
      options.onBusy?.(waitMs);
      await sleep(waitMs);
      waited += waitMs;
    }
  }
}

/** JSON carries the reservation deadline as text; the contract's type says Date. */
function reviveDates(result: ClaimResult & { reservedUntil?: string | Date | null }): ClaimResult {
  if (result.outcome !== "WON") return result;
  return { ...result, reservedUntil: result.reservedUntil ? new Date(result.reservedUntil) : null };
}

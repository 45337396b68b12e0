import "server-only";

/**
 * What claim.lua answers, read once into named cases. The script replies with a flat list
 * whose later slots mean different things by case; here each case gets its own names, so no
 * reader counts slots. Notably a WON's fourth slot is the units left on a new win and whether
 * the original attempt is still being written on a replay.
 */
export type GateReply =
  | { outcome: "WON"; replay: false; claimId: string; remaining: number }
  | { outcome: "WON"; replay: true; claimId: string; inFlight: boolean }
  | { outcome: "ALREADY_CLAIMED" | "ALREADY_CANCELLED"; claimId: string }
  | { outcome: "SOLD_OUT" | "NOT_STARTED" | "ENDED" | "CANCELLED" }
  /** `distanceM` is null when the shopper sent no position. */
  | { outcome: "OUT_OF_AREA"; distanceM: number | null; radiusM: number }
  | { outcome: "RATE_LIMITED"; retryAfterMs: number }
  | { outcome: "NOT_FOUND" }
  /** The deal's gate is not in Redis yet (cold start, flush, new deal): load it and ask again. */
  | { outcome: "NOT_LOADED" }
  /** A reply of no known shape: a script and its reader out of step. */
  | { outcome: "UNREADABLE"; reply: unknown };

export function decodeGateReply(reply: unknown): GateReply {
  if (!Array.isArray(reply)) return { outcome: "UNREADABLE", reply };
  const [outcome, second, third, fourth] = reply as unknown[];
  const unreadable: GateReply = { outcome: "UNREADABLE", reply };
  switch (outcome) {
    case "WON": {
      if (typeof second !== "string" || typeof fourth !== "number") return unreadable;
      if (third === "new") return { outcome, replay: false, claimId: second, remaining: fourth };
      if (third === "replay")
        return { outcome, replay: true, claimId: second, inFlight: fourth === 1 };
      return unreadable;
    }
    case "ALREADY_CLAIMED":
    case "ALREADY_CANCELLED":
      return typeof second === "string" ? { outcome, claimId: second } : unreadable;
    case "OUT_OF_AREA":
      if (typeof second !== "number" || typeof third !== "number") return unreadable;
      return { outcome, distanceM: second < 0 ? null : second, radiusM: third };
    case "RATE_LIMITED":
      return typeof second === "number" ? { outcome, retryAfterMs: second } : unreadable;
    case "SOLD_OUT":
    case "NOT_STARTED":
    case "ENDED":
    case "CANCELLED":
    case "NOT_FOUND":
    case "NOT_LOADED":
      return { outcome };
    default:
      return unreadable;
  }
}

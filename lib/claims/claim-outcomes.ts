import type { ClaimResult } from "./claim-contract";

/**
 * Every way a claim attempt can end, in one table: what the claim button tells the shopper,
 * which group of the sale monitor's chart counts it, and whether it can end an attempt before
 * anyone knows the deal exists. The metric labels (server/observability/metrics.ts) and the
 * monitor's counts (server/monitor/sale-stats.ts) are its keys. To add an outcome, add its
 * row here; the typecheck then asks both claim engines and the button for it.
 */

/** The sale monitor's groups, bottom up as its attempts chart stacks them. */
export const OUTCOME_GROUPS = {
  won: { label: "Won" },
  soldOut: { label: "Sold out" },
  held: {
    label: "Already claimed",
    title: "already holding one, or cancelled their voucher for this deal",
  },
  rateLimited: { label: "Rate limited" },
  notOpen: { label: "Not open", title: "not started, ended or cancelled" },
  outOfArea: { label: "Out of area" },
  shed: {
    label: "Shed",
    title: "refused at once because the gate was overloaded (try again shortly)",
  },
  failed: { label: "Failed", title: "server error, unavailable or deal not found" },
} as const satisfies Record<string, { label: string; title?: string }>;

export type OutcomeGroup = keyof typeof OUTCOME_GROUPS;

interface OutcomeRow {
  group: OutcomeGroup;
  /** What the claim button says; a refusal's own message is shown instead where absent. */
  says?: string;
  /**
   * The attempt may end here before its deal is looked up, so a made-up deal id ends here
   * too: the monitor does not keep counts per deal for these (server/monitor/sale-stats.ts).
   */
  beforeTheDeal?: true;
}

/** What a gate decides (ClaimResult's outcomes). */
const GATE_OUTCOMES = {
  WON: { group: "won", says: "You got one!" },
  ALREADY_CLAIMED: { group: "held", says: "You already hold a claim on this deal." },
  ALREADY_CANCELLED: {
    group: "held",
    says: "You cancelled your voucher for this deal, so its unit went to someone else: one voucher per shopper per deal.",
  },
  SOLD_OUT: { group: "soldOut", says: "Sold out — every unit has been claimed." },
  NOT_STARTED: { group: "notOpen", says: "This sale has not started yet." },
  ENDED: { group: "notOpen", says: "This sale has ended." },
  CANCELLED: { group: "notOpen", says: "The merchant cancelled this deal." },
} as const satisfies Record<ClaimResult["outcome"], OutcomeRow & { says: string }>;

/** The typed refusals before or instead of the gate's decision. */
const REFUSALS = {
  RATE_LIMITED: { group: "rateLimited", beforeTheDeal: true },
  OUT_OF_AREA: { group: "outOfArea" },
  NOT_FOUND: { group: "failed", beforeTheDeal: true },
  UNAVAILABLE: { group: "failed", beforeTheDeal: true },
  /** Refused before the gate because the gate was overloaded (LoadShedder). */
  SHED: { group: "shed", beforeTheDeal: true },
  ERROR: { group: "failed", beforeTheDeal: true },
} as const satisfies Record<string, OutcomeRow>;

/** What one claim attempt ended as: the gate's outcome, or the typed refusal before it. */
export type AttemptOutcome = keyof typeof GATE_OUTCOMES | keyof typeof REFUSALS;

export const OUTCOMES: Readonly<Record<AttemptOutcome, OutcomeRow>> = {
  ...GATE_OUTCOMES,
  ...REFUSALS,
};

/** Every outcome, in the table's order: the metric's labels. */
export const ATTEMPT_OUTCOMES = Object.keys(OUTCOMES) as AttemptOutcome[];

export const outcomesIn = (group: OutcomeGroup): AttemptOutcome[] =>
  ATTEMPT_OUTCOMES.filter((outcome) => OUTCOMES[outcome].group === group);

/** What the claim button tells the shopper about a decided claim. */
export function claimResultMessage(result: ClaimResult): string {
  if (result.outcome === "WON" && result.status === "reserved") {
    return "Reserved! Pay before the time runs out to keep it.";
  }
  return GATE_OUTCOMES[result.outcome].says;
}

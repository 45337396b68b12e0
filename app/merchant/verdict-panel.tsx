import type { CounterVerdict } from "./verify-at-counter";

const REASONS: Record<string, string> = {
  MALFORMED: "Not a Dealdrop voucher",
  UNSUPPORTED_ALG: "Forged voucher",
  UNKNOWN_KEY: "Signed with an unknown key",
  BAD_SIGNATURE: "Forged or altered voucher",
  NOT_YET_VALID: "Not valid yet",
  EXPIRED: "Expired",
  WRONG_MERCHANT: "For another shop",
  REVOKED: "Cancelled voucher",
  ALREADY_REDEEMED: "Already redeemed",
  TRUST_STALE: "Keys out of date",
  CLOCK_SET_BACK: "Device clock changed",
  NOT_SET_UP: "Device not ready",
};

/** The answer at the counter: unmistakable from across the room. */
export function VerdictPanel({ verdict, onNext }: { verdict: CounterVerdict; onNext: () => void }) {
  const time = (ms: number) => new Date(ms).toLocaleTimeString();
  return (
    <section
      className={`verdict ${verdict.accepted ? "verdict-accepted" : "verdict-rejected"}`}
      role="alert"
      aria-live="assertive"
      data-testid="verdict"
      data-checked-at={verdict.checkedAt}
    >
      <p className="verdict-word">{verdict.accepted ? "✓ ACCEPTED" : "✗ REJECTED"}</p>
      {verdict.dealTitle && <p className="verdict-deal">{verdict.dealTitle}</p>}
      {verdict.accepted ? (
        <p>Hand over the deal. Redeemed at {time(verdict.at)}.</p>
      ) : (
        <>
          <p className="verdict-reason" data-testid="verdict-reason">
            {REASONS[verdict.reason] ?? verdict.reason}
          </p>
          <p data-testid="verdict-message">
            {verdict.firstRedeemedAt
              ? `Already redeemed ${verdict.firstRedeemedWhere ?? ""} at ${time(verdict.firstRedeemedAt)}.`
              : verdict.message}
          </p>
        </>
      )}
      <button type="button" className="button verdict-next" onClick={onNext}>
        Scan next
      </button>
    </section>
  );
}

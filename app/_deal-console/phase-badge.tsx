import type { DealPhase } from "@/lib/deals/deal-rules";

const BADGE_OF: Record<DealPhase, { label: string; className: string }> = {
  upcoming: { label: "Upcoming", className: "badge badge-soon" },
  live: { label: "Live", className: "badge badge-live" },
  ended: { label: "Ended", className: "badge" },
  cancelled: { label: "Cancelled", className: "badge badge-out" },
};

export function PhaseBadge({ phase }: { phase: DealPhase }) {
  const badge = BADGE_OF[phase];
  return (
    <span className={badge.className} data-phase={phase}>
      {badge.label}
    </span>
  );
}

"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTRPC } from "@/lib/trpc/client";
import type { HeldClaim } from "./claim-button";

/**
 * The shopper's claims that hold a unit, by deal: after a reload the list and the deal page
 * offer no Claim on a deal already held, but the voucher or the payment still owed.
 */
export function useHeldClaims(isShopper: boolean): Map<string, HeldClaim> {
  const trpc = useTRPC();
  const mine = useQuery(trpc.claims.mine.queryOptions(undefined, { enabled: isShopper }));
  return useMemo(() => {
    const held = new Map<string, HeldClaim>();
    for (const claim of mine.data ?? []) {
      if (claim.status !== "reserved" && claim.status !== "confirmed") continue;
      held.set(claim.dealId, {
        claimId: claim.claimId,
        status: claim.status,
        reservedUntil: claim.reservedUntil,
        voucherId: claim.voucherId,
      });
    }
    return held;
  }, [mine.data]);
}

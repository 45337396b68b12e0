"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc/client";

/** Admins only: reloads the deal's claim gate from Postgres, the source of truth. */
export function RebuildGate({ dealId }: { dealId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const rebuild = useMutation(
    trpc.admin.rebuildGate.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({ queryKey: trpc.sales.history.queryKey({ dealId }) }),
    }),
  );
  const gate = rebuild.data;
  return (
    <>
      <p className="muted">
        When the monitor shows drift: drops the gate's counts and loads them again from the claims
        in Postgres.
      </p>
      <button
        type="button"
        className="button button-secondary"
        disabled={rebuild.isPending}
        onClick={() => rebuild.mutate({ dealId })}
      >
        {rebuild.isPending ? "Rebuilding…" : "Rebuild gate"}
      </button>
      <div role="status">
        {gate && (
          <p data-testid="rebuild-result">
            Rebuilt:{" "}
            <span className={gate.consistent ? "badge badge-live" : "badge badge-out"}>
              {gate.consistent ? "in sync" : "drift"}
            </span>{" "}
            {gate.remainingAtGate ?? "—"} remaining at the gate, {gate.activeClaims} active claims,{" "}
            {gate.pendingAtGate} pending, of {gate.quantity}.
          </p>
        )}
        {rebuild.isError && <p className="error">{rebuild.error.message}</p>}
      </div>
    </>
  );
}

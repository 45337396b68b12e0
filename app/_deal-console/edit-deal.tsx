"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { DealField, DealFields, DealPhase } from "@/lib/deals/deal-rules";
import { useTRPC } from "@/lib/trpc/client";
import type { ManagedDeal } from "./console-types";
import { DealForm } from "./deal-form";
import { useDealFormState } from "./deal-form-state";
import {
  changedFields,
  checkDealValues,
  type DealFormValues,
  FIELD_LABELS,
  lockedInputsOf,
  valuesOfDeal,
} from "./deal-form-values";

const CLOSED_BECAUSE: Partial<Record<DealPhase, string>> = {
  ended: "This sale has ended; it can no longer change.",
  cancelled: "This deal was cancelled; it can no longer change.",
};

function baseOf(deal: ManagedDeal): { values: DealFormValues; fields: DealFields } {
  return { values: valuesOfDeal(deal), fields: deal };
}

/** Edits a deal within its phase's rules; sends only the fields that changed. */
export function EditDeal({ deal, phase }: { deal: ManagedDeal; phase: DealPhase }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [base, setBase] = useState(() => baseOf(deal));
  const form = useDealFormState(() => base.values);
  const [notice, setNotice] = useState<{ text: string; saved: boolean } | null>(null);
  const update = useMutation(
    trpc.sales.update.mutationOptions({
      onSuccess: async (saved) => {
        queryClient.setQueryData(trpc.sales.get.queryKey({ dealId: deal.id }), saved);
        const next = baseOf(saved);
        setBase(next);
        form.setValues(next.values);
        form.clear();
        await queryClient.invalidateQueries({ queryKey: trpc.sales.pathKey() });
      },
      onError: (error) => {
        setNotice(null);
        form.showServerError(error);
      },
    }),
  );

  function save() {
    const changed = changedFields(form.values, base.values);
    if (changed.length === 0) {
      form.clear();
      setNotice({ text: "Nothing to save: no field changed.", saved: false });
      return;
    }
    const check = checkDealValues(form.values, new Date(), base);
    if (!check.ok) {
      setNotice(null);
      form.showProblems(check.problems);
      return;
    }
    const changes: Partial<Record<DealField, unknown>> = {};
    for (const field of changed) changes[field] = check.fields[field];
    const names = changed.map((field) => FIELD_LABELS[field].toLowerCase()).join(", ");
    update.mutate(
      { dealId: deal.id, changes: changes as Partial<DealFields> },
      { onSuccess: () => setNotice({ text: `Saved: ${names}.`, saved: true }) },
    );
  }

  const live = phase === "live";
  return (
    <DealForm
      values={form.values}
      onChange={(input, value) => {
        setNotice(null);
        form.change(input, value);
      }}
      problems={form.problems}
      message={form.message}
      closed={CLOSED_BECAUSE[phase] ?? null}
      locked={lockedInputsOf(phase)}
      hints={
        live
          ? { quantity: `the sale is live: quantity can only grow (now ${base.fields.quantity})` }
          : deal.sold > 0
            ? { quantity: `${deal.sold} already claimed: it cannot go below that` }
            : undefined
      }
      minQuantity={live ? base.fields.quantity : Math.max(1, deal.sold)}
      submitLabel="Save changes"
      pending={update.isPending}
      onSubmit={save}
      notice={
        notice && (
          <p className={notice.saved ? "form-notice form-saved" : "form-notice"} role="status">
            {notice.text}
          </p>
        )
      }
    />
  );
}

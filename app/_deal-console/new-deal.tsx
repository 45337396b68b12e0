"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type ReactNode, useState } from "react";
import type { Point } from "@/lib/geo";
import { useTRPC } from "@/lib/trpc/client";
import { CONSOLE_PATHS, type ConsoleAudience } from "./console-types";
import { DealForm, type FormProblems } from "./deal-form";
import { useDealFormState } from "./deal-form-state";
import { checkDealValues, type DealInput, newDealValues } from "./deal-form-values";
import { RequestProblem } from "./request-problem";
import "./deal-console.css";
import { BackLink } from "@/app/_ui/back-link";

interface MerchantChoice extends Point {
  id: string;
  name: string;
}

/** A new deal: admins choose its merchant; staff create them for their own shop. */
export function NewDeal({ audience }: { audience: ConsoleAudience }) {
  const trpc = useTRPC();
  const isAdmin = audience === "admin";
  const merchants = useQuery(
    trpc.admin.merchants.queryOptions(undefined, { enabled: isAdmin, retry: false }),
  );
  // Staff create deals for their own shop, which starts the location off.
  const shop = useQuery(
    trpc.merchant.shop.queryOptions(undefined, { enabled: !isAdmin, retry: false }),
  );
  const paths = CONSOLE_PATHS[audience];

  const loading = isAdmin ? merchants : shop;
  let body: ReactNode;
  if (loading.isError) {
    body = <RequestProblem error={loading.error} back={{ href: paths.list, label: "All deals" }} />;
  } else if (loading.isPending) {
    body = <p className="muted">Loading…</p>;
  } else {
    body = (
      <NewDealForm
        audience={audience}
        merchants={isAdmin ? (merchants.data ?? []) : null}
        home={shop.data?.location ?? null}
      />
    );
  }
  return (
    <div className="deal-console">
      <BackLink href={paths.list}>All deals</BackLink>
      <h1>New deal</h1>
      <div className="card">{body}</div>
    </div>
  );
}

function NewDealForm({
  audience,
  merchants,
  home,
}: {
  audience: ConsoleAudience;
  merchants: MerchantChoice[] | null;
  home: Point | null;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const form = useDealFormState(() => newDealValues(new Date(), home));
  const [merchantId, setMerchantId] = useState("");
  const [locationTyped, setLocationTyped] = useState(false);
  const create = useMutation(
    trpc.sales.create.mutationOptions({
      onSuccess: async (deal) => {
        await queryClient.invalidateQueries({ queryKey: trpc.sales.pathKey() });
        router.push(CONSOLE_PATHS[audience].deal(deal.id));
      },
      onError: form.showServerError,
    }),
  );

  function change(input: DealInput, value: string) {
    if (input === "lat" || input === "lng") setLocationTyped(true);
    form.change(input, value);
  }

  function chooseMerchant(id: string) {
    setMerchantId(id);
    const merchant = merchants?.find((m) => m.id === id);
    // A new deal sits at its shop unless someone typed another place.
    if (merchant && !locationTyped) {
      form.setValues((values) => ({
        ...values,
        lat: String(merchant.lat),
        lng: String(merchant.lng),
      }));
    }
  }

  function submit() {
    const check = checkDealValues(form.values, new Date());
    const problems: FormProblems = check.ok ? {} : { ...check.problems };
    if (merchants && !merchantId) {
      problems.merchantId = ["choose the merchant this deal belongs to"];
    }
    if (!check.ok || problems.merchantId) {
      form.showProblems(problems);
      return;
    }
    create.mutate({ ...check.fields, merchantId: merchants ? merchantId : undefined });
  }

  const merchantErrors = form.problems.merchantId;
  return (
    <DealForm
      values={form.values}
      onChange={change}
      problems={form.problems}
      message={form.message}
      closed={null}
      locked={{}}
      hints={
        merchants
          ? { lat: "the merchant's address when you choose it" }
          : { lat: home ? "where your latest deal was" : "your shop's coordinates" }
      }
      submitLabel="Create deal"
      pending={create.isPending}
      onSubmit={submit}
      leading={
        merchants && (
          <div className="field">
            <label htmlFor="deal-merchant">Merchant</label>
            <select
              id="deal-merchant"
              value={merchantId}
              onChange={(event) => chooseMerchant(event.currentTarget.value)}
              aria-invalid={merchantErrors?.length ? true : undefined}
              aria-describedby={merchantErrors?.length ? "deal-merchant-error" : undefined}
            >
              <option value="">Choose a merchant…</option>
              {merchants.map((merchant) => (
                <option key={merchant.id} value={merchant.id}>
                  {merchant.name}
                </option>
              ))}
            </select>
            {merchantErrors?.map((error) => (
              <p key={error} id="deal-merchant-error" className="field-error">
                {error}
              </p>
            ))}
          </div>
        )
      }
    />
  );
}

"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useTRPC } from "@/lib/trpc/client";
import { MerchantForm } from "./merchant-form";

export function NewMerchant() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const create = useMutation(
    trpc.admin.createMerchant.mutationOptions({
      onSuccess: async (merchant) => {
        await queryClient.invalidateQueries({ queryKey: trpc.admin.merchants.queryKey() });
        router.push(`/admin/merchants/${merchant.id}`);
      },
    }),
  );
  return (
    <section className="card admin-section" aria-labelledby="new-merchant">
      <h2 id="new-merchant">New merchant</h2>
      <p className="muted">Add the shop here, then invite its staff from the shop's page.</p>
      <MerchantForm
        submitLabel="Create merchant"
        pending={create.isPending}
        error={create.error}
        onSubmit={(fields) => create.mutate(fields)}
      />
    </section>
  );
}

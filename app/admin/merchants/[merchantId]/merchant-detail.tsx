"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { BackLink } from "@/app/_ui/back-link";
import { useTRPC } from "@/lib/trpc/client";
import { QueryView } from "../../admin-parts";
import { MerchantForm } from "../merchant-form";
import { InviteStaff } from "./invite-staff";
import { StaffAndInvites } from "./staff-and-invites";

/** One merchant: its details to edit, its people, and the way to invite more. */
export function MerchantDetail({ merchantId }: { merchantId: string }) {
  const trpc = useTRPC();
  const merchant = useQuery(trpc.admin.merchant.queryOptions({ merchantId }, { retry: false }));
  return (
    <>
      <BackLink href="/admin/merchants" className="admin-back">
        All merchants
      </BackLink>
      <QueryView query={merchant} what="the merchant">
        {(shop) => (
          <>
            <h1 className="admin-title">{shop.name}</h1>
            <p className="admin-lead">{shop.address}</p>
            <nav className="admin-links" aria-label="This merchant">
              <Link href={`/admin/devices?merchant=${shop.id}`}>
                {shop.devices === 1 ? "1 counter device" : `${shop.devices} counter devices`}
              </Link>
              <Link href={`/admin/audit?merchant=${shop.id}`}>Audit log for this merchant</Link>
            </nav>
            <div className="admin-columns">
              <div>
                <StaffAndInvites staff={shop.staff} invites={shop.invites} />
                <InviteStaff merchantId={shop.id} merchantName={shop.name} />
              </div>
              <EditMerchant merchant={shop} />
            </div>
          </>
        )}
      </QueryView>
    </>
  );
}

interface MerchantRow {
  id: string;
  name: string;
  address: string;
  lat: number;
  lng: number;
  timeZone: string;
}

function EditMerchant({ merchant }: { merchant: MerchantRow }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const update = useMutation(
    trpc.admin.updateMerchant.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
    }),
  );
  return (
    <section className="card admin-section" aria-labelledby="merchant-details">
      <h2 id="merchant-details">Details</h2>
      <MerchantForm
        initial={{
          name: merchant.name,
          address: merchant.address,
          location: { lat: merchant.lat, lng: merchant.lng },
          timeZone: merchant.timeZone,
        }}
        submitLabel="Save changes"
        pending={update.isPending}
        error={update.error}
        onSubmit={(fields) => update.mutate({ merchantId: merchant.id, fields })}
        onEdit={() => update.isSuccess && update.reset()}
        status={
          update.isSuccess && (
            <p className="form-saved" role="status">
              Saved.
            </p>
          )
        }
        locationHint="Moving the shop does not move its existing deals: each keeps its own point."
      />
    </section>
  );
}

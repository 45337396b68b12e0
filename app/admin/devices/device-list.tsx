"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc/client";
import {
  AdminRow,
  AdminTable,
  ConfirmButton,
  ErrorNote,
  formatWhen,
  QueryView,
} from "../admin-parts";
import { MerchantFilter } from "../merchant-filter";
import { DeviceHold } from "./device-hold";

const COLUMNS = [
  "Device",
  "Merchant",
  "Enrolled",
  "Last seen",
  "Status",
  { label: "Actions", className: "actions", hidden: true },
];

export function DeviceList({ initialMerchantId }: { initialMerchantId: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [merchantId, setMerchantId] = useState(initialMerchantId);
  const devices = useQuery(trpc.admin.devices.queryOptions());
  const refresh = {
    onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
  };
  const revoke = useMutation(trpc.admin.revokeDevice.mutationOptions(refresh));
  const keep = useMutation(trpc.admin.keepDevice.mutationOptions(refresh));

  return (
    <section className="card admin-section" aria-label="Devices">
      <MerchantFilter merchantId={merchantId} onChange={setMerchantId} />
      <ErrorNote error={revoke.error ?? keep.error} />
      <QueryView query={devices} what="devices">
        {(all) => {
          const rows = merchantId ? all.filter((device) => device.merchantId === merchantId) : all;
          if (rows.length === 0) {
            return (
              <p className="empty">
                No devices enrolled{merchantId ? " for this merchant" : ""} yet. Staff enrol a
                device by signing in on it at /merchant.
              </p>
            );
          }
          const revoked = rows.filter((device) => device.revokedAt).length;
          const held = rows.filter((device) => device.holdReason).length;
          return (
            <>
              <p className="muted">
                {rows.length} {rows.length === 1 ? "device" : "devices"}
                {revoked > 0 && `, ${revoked} revoked`}
                {held > 0 && `, ${held} on hold`}
              </p>
              <AdminTable columns={COLUMNS} stackOnNarrow>
                {rows.map((device) => (
                  <AdminRow
                    key={device.deviceId}
                    testId="device-row"
                    dimmed={Boolean(device.revokedAt)}
                  >
                    <td>
                      <strong>{device.name}</strong>
                    </td>
                    <td>{device.merchantName}</td>
                    <td className="when">
                      {formatWhen(device.enrolledAt)}
                      <span className="cell-sub">by {device.enrolledBy}</span>
                    </td>
                    <td className="when">{formatWhen(device.lastSeenAt, "never")}</td>
                    <td>
                      {device.revokedAt ? (
                        <span className="badge badge-out">
                          Revoked {formatWhen(device.revokedAt)}
                        </span>
                      ) : device.holdReason ? (
                        <DeviceHold reason={device.holdReason} />
                      ) : (
                        <span className="badge badge-live">Active</span>
                      )}
                    </td>
                    <td className="actions">
                      {device.holdReason && (
                        <ConfirmButton
                          question={`Keep "${device.name}" of ${device.merchantName}? It syncs again, with you vouching for it instead of ${device.enrolledBy}.`}
                          disabled={keep.isPending}
                          onConfirm={() => keep.mutate({ deviceId: device.deviceId })}
                        >
                          Keep
                        </ConfirmButton>
                      )}
                      {!device.revokedAt && (
                        <ConfirmButton
                          question={`Revoke "${device.name}" of ${device.merchantName}? It will no longer sync, and this cannot be undone: staff would have to enrol it again.`}
                          disabled={revoke.isPending}
                          onConfirm={() => revoke.mutate({ deviceId: device.deviceId })}
                        >
                          Revoke
                        </ConfirmButton>
                      )}
                    </td>
                  </AdminRow>
                ))}
              </AdminTable>
            </>
          );
        }}
      </QueryView>
    </section>
  );
}

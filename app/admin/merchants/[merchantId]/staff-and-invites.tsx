"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc/client";
import { AdminTable, ConfirmButton, ErrorNote, formatWhen } from "../../admin-parts";

interface StaffMember {
  userId: string;
  email: string;
  displayName: string;
}

interface Invite {
  inviteId: string;
  email: string;
  displayName: string;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

const isPending = (invite: Invite, now: Date) =>
  !invite.acceptedAt && !invite.revokedAt && invite.expiresAt > now;

function InviteStatus({ invite, now }: { invite: Invite; now: Date }) {
  const [badge, label, when] = invite.acceptedAt
    ? ["badge-live", "Joined", formatWhen(invite.acceptedAt)]
    : invite.revokedAt
      ? ["badge-out", "Withdrawn", formatWhen(invite.revokedAt)]
      : invite.expiresAt <= now
        ? ["badge-voucher-expired", "Expired", formatWhen(invite.expiresAt)]
        : ["badge-soon", "Pending", `link expires ${formatWhen(invite.expiresAt)}`];
  return (
    <>
      <span className={`badge ${badge}`}>{label}</span>
      <span className="cell-sub">{when}</span>
    </>
  );
}

export function StaffAndInvites({ staff, invites }: { staff: StaffMember[]; invites: Invite[] }) {
  const now = new Date();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const withdraw = useMutation(
    trpc.admin.revokeInvite.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
    }),
  );
  return (
    <>
      <section className="card admin-section" aria-labelledby="staff">
        <h2 id="staff">Staff</h2>
        {staff.length === 0 ? (
          <p className="empty">No staff yet: invite someone below.</p>
        ) : (
          <AdminTable columns={["Name", "Email"]}>
            {staff.map((person) => (
              <tr key={person.userId} data-testid="staff-row">
                <td>{person.displayName}</td>
                <td>{person.email}</td>
              </tr>
            ))}
          </AdminTable>
        )}
      </section>
      <section className="card admin-section" aria-labelledby="invitations">
        <h2 id="invitations">Invitations</h2>
        <ErrorNote error={withdraw.error} />
        {invites.length === 0 ? (
          <p className="empty">No invitations sent.</p>
        ) : (
          <AdminTable
            columns={[
              "Person",
              "Sent",
              "Status",
              { label: "Actions", className: "actions", hidden: true },
            ]}
          >
            {[...invites].reverse().map((invite) => (
              <tr key={invite.inviteId} data-testid="invite-row">
                <td>
                  {invite.displayName}
                  <span className="cell-sub">{invite.email}</span>
                </td>
                <td className="when">{formatWhen(invite.createdAt)}</td>
                <td>
                  <InviteStatus invite={invite} now={now} />
                </td>
                <td className="actions">
                  {isPending(invite, now) && (
                    <ConfirmButton
                      question={`Withdraw the invitation for ${invite.displayName} (${invite.email})? Its link will stop working.`}
                      disabled={withdraw.isPending}
                      onConfirm={() => withdraw.mutate({ inviteId: invite.inviteId })}
                    >
                      Withdraw
                    </ConfirmButton>
                  )}
                </td>
              </tr>
            ))}
          </AdminTable>
        )}
      </section>
    </>
  );
}

"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";
import { useTRPC } from "@/lib/trpc/client";
import { AdminRow, AdminTable, ErrorNote, formatWhen, QueryView } from "../admin-parts";
import { AccountActions } from "./account-actions";

const COLUMNS = [
  "Account",
  "Role",
  "Joined",
  "Status",
  { label: "Actions", className: "actions", hidden: true },
];

const ROLE_NAMES = { shopper: "Shopper", merchant: "Staff", admin: "Admin" } as const;

export function AccountList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState("");
  const deferred = useDeferredValue(search.trim());
  const me = useQuery(trpc.auth.me.queryOptions());
  const accounts = useQuery(
    trpc.admin.accounts.queryOptions({ search: deferred }, { placeholderData: (last) => last }),
  );
  const refresh = {
    onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
  };
  const deactivate = useMutation(trpc.admin.deactivateAccount.mutationOptions(refresh));
  const reactivate = useMutation(trpc.admin.reactivateAccount.mutationOptions(refresh));
  const busy = deactivate.isPending || reactivate.isPending;

  return (
    <section className="card admin-section" aria-label="Accounts">
      <label className="account-search">
        <span>Search by email or name</span>
        <input
          type="search"
          className="account-search-input"
          value={search}
          maxLength={254}
          placeholder="noor@shopper.test"
          onChange={(event) => setSearch(event.target.value)}
        />
      </label>
      <ErrorNote error={deactivate.error ?? reactivate.error} />
      <QueryView query={accounts} what="accounts">
        {(rows) =>
          rows.length === 0 ? (
            <p className="empty">No account matches “{deferred}”.</p>
          ) : (
            <>
              <p className="muted">
                {rows.length === 100 ? "The first 100 accounts" : `${rows.length} accounts`}
                {deferred && ` matching “${deferred}”`}
              </p>
              <AdminTable columns={COLUMNS} stackOnNarrow>
                {rows.map((account) => (
                  <AdminRow
                    key={account.userId}
                    testId="account-row"
                    dimmed={Boolean(account.deactivatedAt)}
                  >
                    <td>
                      <strong>{account.displayName}</strong>
                      <span className="cell-sub">{account.email}</span>
                    </td>
                    <td>
                      {ROLE_NAMES[account.role]}
                      {account.merchantName && (
                        <span className="cell-sub">{account.merchantName}</span>
                      )}
                    </td>
                    <td className="when">{formatWhen(account.createdAt)}</td>
                    <td>
                      {account.deactivatedAt ? (
                        <span className="badge badge-out">
                          Deactivated {formatWhen(account.deactivatedAt)}
                        </span>
                      ) : (
                        <span className="badge badge-live">Active</span>
                      )}
                    </td>
                    <AccountActions
                      email={account.email}
                      deactivated={Boolean(account.deactivatedAt)}
                      isMe={account.userId === me.data?.userId}
                      busy={busy}
                      onDeactivate={() => deactivate.mutate({ userId: account.userId })}
                      onReactivate={() => reactivate.mutate({ userId: account.userId })}
                    />
                  </AdminRow>
                ))}
              </AdminTable>
            </>
          )
        }
      </QueryView>
    </section>
  );
}

"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useTRPC } from "@/lib/trpc/client";
import { AdminTable, ConfirmButton, ErrorNote, formatWhen, QueryView } from "../admin-parts";

const BADGE = {
  next: "badge-soon",
  active: "badge-live",
  retired: "badge-voucher-expired",
} as const;
const LABEL = { next: "Next", active: "Active", retired: "Retired" } as const;

interface SigningKeyInfo {
  kid: string;
  status: keyof typeof BADGE;
  publishedAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  published: boolean;
}

function meaningOf(key: SigningKeyInfo) {
  if (key.status === "next") return "published, not signing yet";
  if (key.status === "active") return "signs new vouchers";
  if (!key.activatedAt) return "withdrawn before it signed";
  return key.published ? "published while its vouchers last" : "no longer published";
}

const COLUMNS = [
  "Key id",
  "Status",
  "Published",
  "Signing since",
  "Retired",
  "In key set",
  { label: "Actions", className: "actions", hidden: true },
];

export function SigningKeys() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.admin.signingKeys.queryOptions());
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.admin.signingKeys.queryKey() });
  const stage = useMutation(trpc.admin.stageSigningKey.mutationOptions({ onSuccess: refresh }));
  const activate = useMutation(
    trpc.admin.activateSigningKey.mutationOptions({ onSuccess: refresh }),
  );
  const retire = useMutation(trpc.admin.retireSigningKey.mutationOptions({ onSuccess: refresh }));
  const busy = stage.isPending || activate.isPending || retire.isPending;
  // One message at a time: the latest action's.
  const failure = [stage, activate, retire].find((action) => action.isError)?.error ?? null;
  const clearMessages = () => {
    for (const action of [stage, activate, retire]) action.reset();
  };

  return (
    <section className="card admin-section" aria-labelledby="keys">
      <QueryView query={keys} what="signing keys">
        {(rows) => {
          const next = rows.find((key) => key.status === "next");
          return (
            <>
              <div className="admin-section-head">
                <h2 id="keys">Keys</h2>
                <button
                  type="button"
                  className="button button-small"
                  disabled={busy || Boolean(next)}
                  onClick={() => {
                    clearMessages();
                    stage.mutate();
                  }}
                >
                  {stage.isPending ? "Staging…" : "Stage a new key"}
                </button>
              </div>
              {next && (
                <p className="muted">
                  A next key is staged: activate it once its lead time has passed, or retire it.
                </p>
              )}
              <ErrorNote error={failure} />
              {activate.isSuccess && (
                <p className="form-saved" role="status">
                  The new key now signs vouchers; the old one is retired.
                </p>
              )}
              <AdminTable columns={COLUMNS}>
                {rows.map((key) => (
                  <KeyRow key={key.kid} signingKey={key}>
                    {key.status === "next" && (
                      <span className="row-actions">
                        <button
                          type="button"
                          className="button button-small"
                          disabled={busy}
                          onClick={() => {
                            clearMessages();
                            activate.mutate();
                          }}
                        >
                          {activate.isPending ? "Activating…" : "Activate"}
                        </button>
                        <ConfirmButton
                          question="Retire this staged key? It leaves the key set at once and its private part is erased: it will never sign. Stage a new key to rotate later."
                          disabled={busy}
                          onConfirm={() => {
                            clearMessages();
                            retire.mutate({ kid: key.kid });
                          }}
                        >
                          Retire
                        </ConfirmButton>
                      </span>
                    )}
                  </KeyRow>
                ))}
              </AdminTable>
            </>
          );
        }}
      </QueryView>
    </section>
  );
}

function KeyRow({
  signingKey: key,
  children,
}: {
  signingKey: SigningKeyInfo;
  children: ReactNode;
}) {
  return (
    <tr
      data-testid="key-row"
      data-status={key.status}
      className={key.status === "retired" ? "is-dimmed" : undefined}
    >
      <td className="mono" title={key.kid}>
        {key.kid.slice(0, 10)}…
      </td>
      <td>
        <span className={`badge ${BADGE[key.status]}`}>{LABEL[key.status]}</span>
        <span className="cell-sub">{meaningOf(key)}</span>
      </td>
      <td className="when">{formatWhen(key.publishedAt)}</td>
      <td className="when">{formatWhen(key.activatedAt)}</td>
      <td className="when">{formatWhen(key.retiredAt)}</td>
      <td>{key.published ? "Yes" : "No"}</td>
      <td className="actions">
        {children}
        {key.status === "active" && (
          <span className="cell-sub">Retires when a next key is activated</span>
        )}
      </td>
    </tr>
  );
}

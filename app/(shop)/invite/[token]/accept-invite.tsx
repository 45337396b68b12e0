"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { COUNTER_AREA } from "@/lib/security/counter-area";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage } from "@/lib/wire/read-api-error";

const MIN_PASSWORD = 10;

/** A staff invitation: the person sees what they are joining and chooses a password. */
export function AcceptInvite({ token }: { token: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const invite = useQuery(trpc.auth.invite.queryOptions({ token }, { retry: false }));
  const me = useQuery(trpc.auth.me.queryOptions());
  const [mismatch, setMismatch] = useState(false);
  const accept = useMutation(
    trpc.auth.acceptInvite.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        // A page load: only the counter app's own documents may use the camera.
        window.location.assign(COUNTER_AREA);
      },
    }),
  );

  if (invite.isPending) {
    return (
      <p className="muted" role="status">
        Opening your invitation…
      </p>
    );
  }
  if (invite.isError) {
    return (
      <div className="card" role="alert" data-testid="invite-invalid">
        <h1>This invitation link does not work</h1>
        <p className="error">{apiErrorMessage(invite.error)}</p>
        <p className="muted">
          Invitation links work once and expire after a week. If you already chose a password,{" "}
          <Link href="/sign-in">sign in</Link>.
        </p>
      </div>
    );
  }

  const { merchantName, displayName, email, expiresAt } = invite.data;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get("password") ?? "");
    const matches = password === String(form.get("confirm") ?? "");
    setMismatch(!matches);
    if (matches) accept.mutate({ token, password });
  }

  return (
    <form className="card form" onSubmit={submit}>
      <h1>Join {merchantName}</h1>
      <p>
        You are invited to join <strong>{merchantName}</strong> on Dealdrop as{" "}
        <strong>{displayName}</strong> ({email}). Choose a password to check vouchers at the
        counter.
      </p>
      {me.data && (
        <p className="muted">
          You are signed in as {me.data.displayName}; joining signs you in as {displayName} instead.
        </p>
      )}
      <label>
        Email
        <input name="email" type="email" value={email} autoComplete="username" readOnly />
      </label>
      <label>
        Password (at least {MIN_PASSWORD} characters)
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={MIN_PASSWORD}
          required
        />
      </label>
      <label>
        Confirm password
        <input
          name="confirm"
          type="password"
          autoComplete="new-password"
          minLength={MIN_PASSWORD}
          aria-invalid={mismatch || undefined}
          aria-describedby={mismatch ? "confirm-error" : undefined}
          required
        />
      </label>
      {mismatch && (
        <p id="confirm-error" className="error" role="alert">
          The two passwords differ: type the same one twice.
        </p>
      )}
      {accept.isError && (
        <p className="error" role="alert">
          {apiErrorMessage(accept.error)}
        </p>
      )}
      <button type="submit" className="button" disabled={accept.isPending || accept.isSuccess}>
        {accept.isPending || accept.isSuccess ? "Joining…" : `Join ${merchantName}`}
      </button>
      <p className="muted">
        This link works once and expires on{" "}
        {expiresAt.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}.
      </p>
    </form>
  );
}

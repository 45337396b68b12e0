"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { useTRPC } from "@/lib/trpc/client";

/** Signed in: sign out of every device, or change the password (which does the same). */
export function AccountSettings() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const [changed, setChanged] = useState(false);
  const everywhere = useMutation(
    trpc.auth.signOutEverywhere.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        router.push("/sign-in");
      },
    }),
  );
  const changePassword = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: async () => {
        setChanged(true);
        await queryClient.invalidateQueries();
      },
    }),
  );

  if (me.isPending) return <p className="muted">Loading…</p>;
  if (!me.data) {
    return (
      <p className="card">
        You are signed out. <Link href="/sign-in">Sign in</Link> to manage your account.
      </p>
    );
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setChanged(false);
    changePassword.mutate(
      { current: String(form.get("current") ?? ""), next: String(form.get("next") ?? "") },
      { onSuccess: () => (event.target as HTMLFormElement).reset() },
    );
  }

  return (
    <div className="account-cards">
      <div className="card">
        <h1>Your account</h1>
        <p className="muted">Signed in as {me.data.displayName}.</p>
        <h2>Sign out everywhere</h2>
        <p>
          Ends every session of this account: on this browser, your phone and anywhere else you
          signed in. Use it if you lost a device or signed in on someone else's.
        </p>
        <button
          type="button"
          className="button button-secondary"
          disabled={everywhere.isPending}
          onClick={() => {
            if (window.confirm("Sign out on every device, this one included?")) everywhere.mutate();
          }}
        >
          Sign out everywhere
        </button>
        {everywhere.error && (
          <p className="error" role="alert">
            {everywhere.error.message}
          </p>
        )}
      </div>
      <form className="card form" onSubmit={submit}>
        <h2>Change your password</h2>
        <p className="muted">Every other session of this account ends; this one stays.</p>
        <label>
          Current password
          <input name="current" type="password" autoComplete="current-password" required />
        </label>
        <label>
          New password
          <input
            name="next"
            type="password"
            autoComplete="new-password"
            minLength={10}
            maxLength={200}
            required
          />
        </label>
        {changePassword.error && (
          <p className="error" role="alert">
            {changePassword.error.message}
          </p>
        )}
        {changed && (
          <p className="success" role="status">
            Password changed. Other devices are signed out.
          </p>
        )}
        <button type="submit" className="button" disabled={changePassword.isPending}>
          Change password
        </button>
      </form>
    </div>
  );
}

"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { isCounterArea } from "@/lib/security/counter-area";
import { PASSWORD_HINT, PASSWORD_RULES } from "@/lib/security/password-rules";
import { RETURN_PARAM, safeReturnPath } from "@/lib/security/return-path";
import { useTRPC } from "@/lib/trpc/client";
import { apiErrorMessage, readApiError } from "@/lib/wire/read-api-error";

/** Where each role starts: staff at the counter app, admins at the dashboard. */
const HOME_OF: Record<string, string> = { merchant: "/merchant", admin: "/admin" };

export function SignInForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<"sign-in" | "sign-up">("sign-in");
  const done = {
    onSuccess: async (session: { role: string }) => {
      await queryClient.invalidateQueries();
      // Staff sign in to run the counter app, admins the dashboard; shoppers go back to the
      // page that sent them here (a same-origin path only), else to the deals.
      const home =
        HOME_OF[session.role] ??
        safeReturnPath(new URLSearchParams(window.location.search).get(RETURN_PARAM)) ??
        "/";
      // A page load, not a client-side navigation, into the counter app: only its own
      // documents may use the camera.
      if (isCounterArea(home)) window.location.assign(home);
      else router.push(home);
    },
  };
  const signIn = useMutation(trpc.auth.signIn.mutationOptions(done));
  // Sign-up answers the same for a new email and a taken one, and starts no session: the
  // form signs in with what was typed, which works for a new account and for an existing
  // one only with its own password.
  const [signedUp, setSignedUp] = useState(false);
  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: (_, { email, password }) => {
        setSignedUp(true);
        signIn.mutate({ email, password });
      },
    }),
  );
  const active = mode === "sign-in" || signUp.isSuccess ? signIn : signUp;
  const errorMessage =
    signedUp && signIn.error && readApiError(signIn.error).code === "UNAUTHORIZED"
      ? "This email may already have an account: sign in with that account's password."
      : active.error && apiErrorMessage(active.error);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setSignedUp(false);
    if (mode === "sign-in") signIn.mutate({ email, password });
    else signUp.mutate({ email, password, displayName: String(form.get("displayName") ?? "") });
  }

  return (
    <form className="card form" method="post" onSubmit={submit}>
      <h1>{mode === "sign-in" ? "Sign in" : "Create an account"}</h1>
      {mode === "sign-up" && (
        <label>
          Name
          <input name="displayName" autoComplete="name" required />
        </label>
      )}
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
          minLength={mode === "sign-up" ? PASSWORD_RULES.minLength : undefined}
          maxLength={PASSWORD_RULES.maxLength}
          aria-describedby={mode === "sign-up" ? "password-rules" : undefined}
          required
        />
      </label>
      {mode === "sign-up" && (
        <p id="password-rules" className="field-hint" data-testid="password-rules">
          {PASSWORD_HINT}
        </p>
      )}
      {errorMessage && (
        <p className="error" role="alert">
          {errorMessage}
        </p>
      )}
      <button type="submit" className="button" disabled={active.isPending || signUp.isPending}>
        {active.isPending || signUp.isPending
          ? "Please wait…"
          : mode === "sign-in"
            ? "Sign in"
            : "Sign up"}
      </button>
      <button
        type="button"
        className="link-button"
        onClick={() => setMode(mode === "sign-in" ? "sign-up" : "sign-in")}
      >
        {mode === "sign-in" ? "New here? Create an account" : "Have an account? Sign in"}
      </button>
    </form>
  );
}

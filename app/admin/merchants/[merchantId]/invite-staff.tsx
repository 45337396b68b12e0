"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { staffInviteSchema } from "@/lib/merchants/merchant-rules";
import { useTRPC } from "@/lib/trpc/client";
import { ErrorNote, Field, type FieldErrors, formatWhen, issuesByField } from "../../admin-parts";

interface Invitation {
  email: string;
  displayName: string;
  expiresAt: Date;
  url: string;
}

/** Invites a person to the merchant's staff and shows the one-time link to hand them. */
export function InviteStaff({
  merchantId,
  merchantName,
}: {
  merchantId: string;
  merchantName: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [sent, setSent] = useState<Invitation | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const invite = useMutation(trpc.admin.inviteStaff.mutationOptions());

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    // Checked here with the API's schema, whose errors name only "person", not the field.
    const parsed = staffInviteSchema.safeParse({
      displayName: String(data.get("displayName") ?? ""),
      email: String(data.get("email") ?? ""),
    });
    setErrors(parsed.success ? {} : issuesByField(parsed.error.issues));
    setSent(null);
    if (!parsed.success) return;
    const person = parsed.data;
    invite.mutate(
      { merchantId, person },
      {
        onSuccess: async (result) => {
          form.reset();
          setSent({
            email: result.email,
            displayName: person.displayName,
            expiresAt: result.expiresAt,
            url: `${window.location.origin}${result.invitePath}`,
          });
          await queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() });
        },
      },
    );
  }

  return (
    <section className="card admin-section" aria-labelledby="invite-staff">
      <h2 id="invite-staff">Invite staff</h2>
      <p className="muted">
        Dealdrop sends no email: you get a link to hand to the person yourself. With it they choose
        a password and can run {merchantName}'s counter.
      </p>
      <form className="form" onSubmit={submit} noValidate>
        <Field
          label="Name"
          name="displayName"
          autoComplete="off"
          maxLength={80}
          required
          errors={errors.displayName}
        />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="off"
          maxLength={254}
          required
          errors={errors.email}
        />
        <ErrorNote error={invite.error} />
        <div className="form-actions">
          <button type="submit" className="button" disabled={invite.isPending}>
            {invite.isPending ? "Creating link…" : "Create invitation link"}
          </button>
        </div>
      </form>
      {sent && <InvitationLink invitation={sent} />}
    </section>
  );
}

function InvitationLink({ invitation }: { invitation: Invitation }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const inputId = `invite-link-${invitation.email}`;

  async function copy() {
    try {
      await navigator.clipboard.writeText(invitation.url);
      setCopied("yes");
    } catch {
      (document.getElementById(inputId) as HTMLInputElement | null)?.select();
      setCopied("failed");
    }
  }

  return (
    <div className="admin-success" data-testid="invite-link" role="status">
      <h3>
        Invitation for {invitation.displayName} ({invitation.email})
      </h3>
      <label htmlFor={inputId} className="visually-hidden">
        Invitation link
      </label>
      <div className="copy-row">
        <input
          id={inputId}
          readOnly
          value={invitation.url}
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" className="button button-small" onClick={copy}>
          {copied === "yes" ? "Copied" : "Copy link"}
        </button>
      </div>
      {copied === "failed" && (
        <p className="field-error">Could not copy: the link is selected, press Ctrl+C (⌘C).</p>
      )}
      <p>
        Send it to them yourself. It works <strong>once</strong> and expires on{" "}
        <strong>{formatWhen(invitation.expiresAt)}</strong>. It is shown only now: if it is lost,
        invite them again.
      </p>
    </div>
  );
}

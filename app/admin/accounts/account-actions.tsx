"use client";

import { ConfirmButton } from "../admin-parts";

/** The last cell of an account's row: nothing for one's own account, else the one action that applies. */
export function AccountActions(props: {
  email: string;
  deactivated: boolean;
  isMe: boolean;
  busy: boolean;
  onDeactivate: () => void;
  onReactivate: () => void;
}) {
  if (props.isMe) {
    return (
      <td className="actions">
        <span className="muted">you</span>
      </td>
    );
  }
  return (
    <td className="actions">
      {props.deactivated ? (
        <ConfirmButton
          question={`Reactivate ${props.email}? They can sign in again (their old sessions stay ended).`}
          disabled={props.busy}
          onConfirm={props.onReactivate}
        >
          Reactivate
        </ConfirmButton>
      ) : (
        <ConfirmButton
          question={`Deactivate ${props.email}? Every session they have ends now, on every device, and they cannot sign in until reactivated.`}
          disabled={props.busy}
          onConfirm={props.onDeactivate}
        >
          Deactivate
        </ConfirmButton>
      )}
    </td>
  );
}

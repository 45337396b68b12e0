"use client";

import type { UseQueryResult } from "@tanstack/react-query";
import { type InputHTMLAttributes, type ReactNode, useId } from "react";
import { apiErrorMessage, formatMoment } from "@/lib/wire/read-api-error";

export type FieldErrors = Partial<Record<string, string[]>>;

/** Zod's issues by the field they concern (the last step of each path), for the form to show. */
export function issuesByField(
  issues: { path: PropertyKey[]; message: string; code: string }[],
  missing: Record<string, string> = {},
): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = String(issue.path.at(-1));
    // An empty field fails as "expected a number/string": say what to enter instead.
    const message =
      issue.code === "invalid_type" ? (missing[field] ?? issue.message) : issue.message;
    errors[field] = [...(errors[field] ?? []), message];
  }
  return errors;
}

const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function formatWhen(date: Date | null | undefined, otherwise = "—") {
  return date ? formatMoment(date) : otherwise;
}

/** A failed call's message (lib/wire/read-api-error.ts), or nothing. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="admin-alert" role="alert">
      {apiErrorMessage(error)}
    </p>
  );
}

/** Renders a query's data, or says it is loading or why it failed (with a retry). */
export function QueryView<T>({
  query,
  what,
  children,
}: {
  query: UseQueryResult<T, unknown>;
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) {
    return (
      <p className="muted" role="status">
        Loading {what}…
      </p>
    );
  }
  if (query.isError) {
    return (
      <div className="admin-alert" role="alert">
        <p>
          Could not load {what}: {apiErrorMessage(query.error)}
        </p>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => query.refetch()}
        >
          Try again
        </button>
      </div>
    );
  }
  return children(query.data);
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  hint?: ReactNode;
  errors?: string[];
};

/**
 * A labelled input with its hint and its error messages, tied to it for screen readers (kept
 * out of the label, so the input's name stays short).
 */
export function Field({ label, name, hint, errors, ...input }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = errors?.length ? `${id}-error` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={errorId ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
        {...input}
      />
      {hint && (
        <span className="field-hint" id={hintId}>
          {hint}
        </span>
      )}
      {errorId && (
        <span className="field-error" id={errorId}>
          {errors?.map(sentence).join(". ")}
        </span>
      )}
    </div>
  );
}

type Column = string | { label: string; className?: string; hidden?: boolean };

/** The dashboard's table: column headings, then the rows given, scrolling sideways if narrow. */
export function AdminTable({
  columns,
  children,
  stackOnNarrow = false,
}: {
  columns: Column[];
  children: ReactNode;
  /** On a phone, show each row as a block instead of scrolling sideways. */
  stackOnNarrow?: boolean;
}) {
  return (
    <div className="table-scroll">
      <table className={stackOnNarrow ? "admin-table stack-narrow" : "admin-table"}>
        <thead>
          <tr>
            {columns.map((column) => {
              const { label, className, hidden } =
                typeof column === "string" ? { label: column } : column;
              return (
                <th key={label} scope="col" className={className}>
                  {hidden ? <span className="visually-hidden">{label}</span> : label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A row of an AdminTable; `dimmed` for what no longer acts (revoked, deactivated, retired). */
export function AdminRow({
  testId,
  dimmed,
  children,
}: {
  testId: string;
  dimmed: boolean;
  children: ReactNode;
}) {
  return (
    <tr data-testid={testId} className={dimmed ? "is-dimmed" : undefined}>
      {children}
    </tr>
  );
}

/** A button for a change that cannot be undone: it asks first. */
export function ConfirmButton({
  question,
  onConfirm,
  disabled,
  children,
}: {
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className="button button-secondary button-small"
      disabled={disabled}
      onClick={() => {
        if (window.confirm(question)) onConfirm();
      }}
    >
      {children}
    </button>
  );
}

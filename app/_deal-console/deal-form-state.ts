"use client";

import { useState } from "react";
import { readApiError } from "@/lib/wire/read-api-error";
import type { FormProblems } from "./deal-form";
import type { DealFormValues, DealInput } from "./deal-form-values";

/** The values a deal form holds and what stands in the way of saving them. */
export function useDealFormState(initial: () => DealFormValues) {
  const [values, setValues] = useState(initial);
  const [problems, setProblems] = useState<FormProblems>({});
  const [message, setMessage] = useState<string | null>(null);
  return {
    values,
    setValues,
    problems,
    message,
    change: (input: DealInput, value: string) =>
      setValues((current) => ({ ...current, [input]: value })),
    showProblems(found: FormProblems) {
      setProblems(found);
      setMessage(null);
    },
    /** The server's field errors beside their fields; any other refusal as one message. */
    showServerError(error: unknown) {
      const { fieldErrors, message } = readApiError(error);
      const named = fieldErrors && Object.values(fieldErrors).some((list) => list.length);
      setProblems(named ? fieldErrors : {});
      setMessage(named ? null : message);
    },
    clear() {
      setProblems({});
      setMessage(null);
    },
  };
}

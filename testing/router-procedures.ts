import type { AnyProcedure, AnyRouter } from "@trpc/server";
import type fc from "fast-check";
import type { z } from "zod";
import type { ProcedureType } from "./hostile-http";
import { inputAccepted, type Payload } from "./hostile-input";

export interface Procedure {
  path: string;
  type: ProcedureType;
  /** The zod schemas of `.input()`; none when the procedure takes no input. */
  parsers: z.ZodType[];
}

/** Every procedure of a router, as tRPC holds them: a new procedure is listed without a change. */
export function proceduresOf(router: AnyRouter): Map<string, Procedure> {
  const entries = Object.entries(router._def.procedures).map(([path, procedure]) => {
    const def = (procedure as AnyProcedure)._def as unknown as {
      type: ProcedureType;
      inputs: z.ZodType[];
    };
    return [path, { path, type: def.type, parsers: def.inputs }] as const;
  });
  return new Map(entries);
}

/** Inputs a procedure must refuse: for all but queries, only those its parsers refuse. */
export function refusable(procedure: Procedure, payloads: fc.Arbitrary<Payload>) {
  if (procedure.parsers.length === 0 || procedure.type === "query") return payloads;
  return payloads.filter((payload) => !inputAccepted(procedure.parsers, payload));
}

/**
 * Which paths of a call may succeed: a procedure that takes no input, or the called query
 * when `payload` is valid for it. Anything else must be refused.
 */
export function successAllowed(
  all: Map<string, Procedure>,
  called: Procedure,
  payload?: Payload,
): (path: string) => boolean {
  return (path) => {
    if (path !== called.path) return all.get(path)?.parsers.length === 0;
    if (called.parsers.length === 0) return true;
    return (
      called.type === "query" && payload !== undefined && inputAccepted(called.parsers, payload)
    );
  };
}

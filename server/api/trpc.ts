import "server-only";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import {
  DOMAIN_ERRORS,
  type DomainErrorCode,
  fieldErrorsOf,
  firstInputMessage,
  INTERNAL_MESSAGE,
} from "@/lib/wire/error-contract";
import type { Session } from "../auth/session";
import { DomainError, isOutage, outageError, wireBodyOf } from "../errors";
import { log } from "../log";
import type { Services } from "../services";

export interface Context {
  services: Services;
  session: Session | null;
  ip: string;
  secureCookies: boolean;
  /** A merchant device's credential (header `x-device-credential`), checked by deviceProcedure. */
  deviceCredential: string | null;
  /** Response headers, for Set-Cookie. */
  resHeaders: Headers;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const inputErrors = cause instanceof ZodError ? fieldErrorsOf(cause) : undefined;
    const domain = DomainError.is(cause) ? wireBodyOf(cause) : undefined;
    return {
      ...shape,
      // tRPC's own message for bad input is the JSON of every issue; say the first plainly.
      // An unexpected error's message can quote SQL: it goes to the log, not to the caller.
      message:
        (inputErrors && firstInputMessage(inputErrors)) ??
        (error.code === "INTERNAL_SERVER_ERROR" ? INTERNAL_MESSAGE : shape.message),
      data: {
        ...shape.data,
        stack: undefined,
        domainCode: domain?.domainCode,
        retryAfterMs: domain?.retryAfterMs,
        fieldErrors: inputErrors ?? domain?.fieldErrors,
      },
    };
  },
});

/** A domain code's tRPC code: its wire code, which the typecheck holds to tRPC's names. */
export const trpcCodeOf = (code: DomainErrorCode): TRPCError["code"] => DOMAIN_ERRORS[code];

function trpcErrorOf(cause: DomainError): TRPCError {
  return new TRPCError({ code: trpcCodeOf(cause.code), message: cause.message, cause });
}

/** A subscription's stream, with domain errors thrown while it runs mapped like any other. */
async function* mappingDomainErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (cause) {
    throw DomainError.is(cause) ? trpcErrorOf(cause) : cause;
  }
}

const mapDomainErrors = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (!result.ok && DomainError.is(result.error.cause)) throw trpcErrorOf(result.error.cause);
  // Postgres or Redis out of reach is not a bug to hide behind a 500: the caller is told to
  // try again shortly (503 + retry delay), as the claim path tells its shoppers.
  if (!result.ok && isOutage(result.error.cause)) {
    log.warn({ err: result.error.cause, path }, "request met an outage");
    throw trpcErrorOf(outageError(result.error.cause));
  }
  const data: unknown = result.ok ? result.data : undefined;
  if (result.ok && typeof data === "object" && data !== null && Symbol.asyncIterator in data) {
    return { ...result, data: mappingDomainErrors(data as AsyncIterable<unknown>) };
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapDomainErrors);

export const signedInProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next({ ctx: { ...ctx, session: ctx.session } });
});

function withRole(role: Session["role"], message: string) {
  return signedInProcedure.use(({ ctx, next }) => {
    if (ctx.session.role !== role) throw new TRPCError({ code: "FORBIDDEN", message });
    return next({ ctx });
  });
}

export const shopperProcedure = withRole("shopper", "Only shopper accounts can do this.");
export const adminProcedure = withRole("admin", "Only admins can do this.");
export const merchantProcedure = withRole("merchant", "Only merchant staff can do this.").use(
  ({ ctx, next }) => {
    const merchantId = ctx.session.merchantId;
    if (!merchantId) {
      throw new TRPCError({ code: "FORBIDDEN", message: "This account belongs to no merchant." });
    }
    return next({ ctx: { ...ctx, merchantId } });
  },
);

/**
 * Admins and merchant staff: the people who manage deals. Which deals a staff member may
 * touch is the services' check (`assertMayManage`), since it needs the deal's merchant.
 */
export const managerProcedure = signedInProcedure.use(({ ctx, next }) => {
  const { role, merchantId } = ctx.session;
  if (role === "admin" || (role === "merchant" && merchantId)) return next({ ctx });
  throw new TRPCError({
    code: "FORBIDDEN",
    message: "Only admins and merchant staff can do this.",
  });
});

/** Calls from an enrolled merchant device: the credential is checked against the database. */
export const deviceProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const device = await ctx.services.devices.authenticate(ctx.deviceCredential);
  return next({ ctx: { ...ctx, device } });
});

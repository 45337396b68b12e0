import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import { newId } from "@/lib/ids";

interface RequestContext {
  reqId: string;
}

const STORAGE_KEY = Symbol.for("dealdrop.request-context");
type GlobalWithStorage = typeof globalThis & {
  [STORAGE_KEY]?: AsyncLocalStorage<RequestContext>;
};

/**
 * One store per process, on globalThis: Next.js compiles instrumentation (where the services
 * and their logger are made) and each route into separate module graphs, and the logger must
 * read the store the route handler writes.
 */
const store = globalThis as GlobalWithStorage;
store[STORAGE_KEY] ??= new AsyncLocalStorage<RequestContext>();
const storage = store[STORAGE_KEY];

const SANE_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The caller's `x-request-id` when it is a plain token (a proxy's, say), else a new one. */
export function requestIdOf(headers: Headers): string {
  const given = headers.get("x-request-id");
  return given && SANE_REQUEST_ID.test(given) ? given : newId();
}

/** The id of the request being served, for anything that runs on its behalf. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.reqId;
}

export function runWithRequestId<T>(reqId: string, work: () => T): T {
  return storage.run({ reqId }, work);
}

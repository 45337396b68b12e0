import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "drizzle-orm/logger";

const scope = new AsyncLocalStorage<{ queries: number }>();
let totalQueries = 0;

/**
 * Counts the SQL statements a piece of work sends, even with many of them in flight at
 * once: the counter follows the async context, not the clock. Invariant 3 (rejected claims
 * never touch Postgres) is tested with it.
 */
export async function countQueries<T>(
  work: () => Promise<T>,
): Promise<{ result: T; queries: number }> {
  const store = { queries: 0 };
  const result = await scope.run(store, work);
  return { result, queries: store.queries };
}

export function totalQueryCount(): number {
  return totalQueries;
}

export const countingLogger: Logger = {
  logQuery() {
    totalQueries++;
    const store = scope.getStore();
    if (store) store.queries++;
  },
};

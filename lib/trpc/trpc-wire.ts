/** Where the tRPC API is served (server/http/trpc-route.ts), for the app's clients and the edge. */
export const TRPC_ENDPOINT = "/api/trpc";

/**
 * The most calls one tRPC request may batch. The server refuses a larger batch with a 400
 * before any procedure runs; the app's batch links split theirs to fit. A batch of a handful
 * is all a page makes; without a cap one 15 KB GET ran 1,400 uncached queries.
 */
export const TRPC_MAX_BATCH = 10;

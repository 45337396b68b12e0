import "server-only";
import { DomainError } from "../errors";
import type { StreamSlot } from "../streams/stream-slots";
import { managerProcedure } from "./trpc";

/** Requests whose subscription was refused a stream place, by their response headers. */
const refusedStreams = new WeakMap<Headers, number>();

/**
 * Subscriptions for admins and merchant staff, each holding a stream place for its address
 * and account while it runs (server/streams/stream-slots.ts), as a live-stock stream does.
 * The place goes back however the stream ends: the reader leaves (the signal), the stream
 * runs out or fails (the iterator's end), or the call fails before it starts.
 */
export const managerStreamProcedure = managerProcedure.use(async ({ ctx, next, signal }) => {
  let slot: StreamSlot;
  try {
    slot = ctx.services.streams.take({ address: ctx.ip, accountId: ctx.session.userId });
  } catch (error) {
    if (DomainError.is(error)) {
      refusedStreams.set(ctx.resHeaders, Number(error.details.retryAfterMs ?? 0));
    }
    throw error;
  }
  const result = await next();
  const data: unknown = result.ok ? result.data : undefined;
  if (!result.ok || typeof data !== "object" || data === null || !(Symbol.asyncIterator in data)) {
    slot.release();
    return result;
  }
  signal?.addEventListener("abort", slot.release, { once: true });
  return { ...result, data: releasingAtEnd(data as AsyncIterable<unknown>, slot) };
});

async function* releasingAtEnd<T>(stream: AsyncIterable<T>, slot: StreamSlot): AsyncGenerator<T> {
  try {
    yield* stream;
  } finally {
    slot.release();
  }
}

/**
 * tRPC answers every subscription 200 and sends its error as the stream's first event; a
 * refused stream place is answered 429 with Retry-After instead (the typed error still
 * follows as that event), so clients and proxies see the refusal in the status line.
 */
export function refusedStreamResponse(
  resHeaders: Headers | undefined,
): { status: number; headers: Headers } | undefined {
  const retryAfterMs = resHeaders && refusedStreams.get(resHeaders);
  if (retryAfterMs === undefined) return undefined;
  return {
    status: 429,
    headers: new Headers({ "retry-after": String(Math.ceil(retryAfterMs / 1_000)) }),
  };
}

/**
 * Wraps a task so that it runs once at a time: a call while a run is in flight joins that
 * run (the same promise) instead of starting another. For work several triggers start (a
 * timer, a reconnect, a scan) that must not overlap.
 */
export function oneAtATime<T>(task: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= task().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

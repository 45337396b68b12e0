import "server-only";

/**
 * Group commit: items that arrive while earlier batches are being written share the next
 * batch instead of taking a round trip each. With no traffic an item is written at once;
 * under a burst, up to `maxBatch` go together, and at most `maxInFlight` batches run at a
 * time, so a burst leaves the connection pool to the rest of the app. Each caller still
 * waits for its own item's batch to finish.
 *
 * `write` answers one result per item, in order. If it throws, every item of that batch is
 * answered by `fallback` (typically: do it alone, where its own error can be told).
 */
export class GroupCommit<Item, Result> {
  /** Batches written, for tests and benchmarks. */
  batches = 0;
  private queue: { item: Item; resolve: (result: Result | Promise<Result>) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: (items: Item[]) => Promise<Result[]>,
    private readonly fallback: (item: Item) => Result | Promise<Result>,
    private readonly limits: { maxBatch: number; maxInFlight: number },
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise((resolve) => {
      this.queue.push({ item, resolve });
      this.flush();
    });
  }

  private flush() {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.limits.maxBatch);
      this.inFlight++;
      this.batches++;
      this.write(batch.map(({ item }) => item))
        .then(
          (results) => {
            for (const [i, { resolve }] of batch.entries()) resolve(results[i] as Result);
          },
          () => {
            for (const { item, resolve } of batch) resolve(this.fallback(item));
          },
        )
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }
}

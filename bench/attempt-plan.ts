/** One claim attempt of the simulated crowd: who tries, and with which idempotency key. */
export interface Attempt {
  userIndex: number;
  idempotencyKey: string;
  retry: boolean;
}

/**
 * Retries pick from the most recent attempts: a client retries soon after a timeout, so some
 * retries reach the engine while the original is still in flight, which is the hard case for
 * idempotency.
 */
const RETRY_WINDOW = 1_000;

/** mulberry32: tiny and seeded, so that every design faces exactly the same crowd. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function planAttempts(options: {
  attempts: number;
  users: number;
  retryShare: number;
  seed: number;
}): Attempt[] {
  const random = seededRandom(options.seed);
  const plan: Attempt[] = [];
  for (let index = 0; index < options.attempts; index++) {
    const wantsRetry = plan.length > 0 && random() < options.retryShare;
    const windowStart = Math.max(0, plan.length - RETRY_WINDOW);
    const earlier = wantsRetry
      ? plan[windowStart + Math.floor(random() * (plan.length - windowStart))]
      : undefined;
    if (earlier) {
      plan.push({
        userIndex: earlier.userIndex,
        idempotencyKey: earlier.idempotencyKey,
        retry: true,
      });
    } else {
      plan.push({
        userIndex: Math.floor(random() * options.users),
        // Unique per attempt and within the API's key rules: /^[A-Za-z0-9_-]{8,64}$/.
        idempotencyKey: `try-${index.toString(36).padStart(6, "0")}`,
        retry: false,
      });
    }
  }
  return plan;
}

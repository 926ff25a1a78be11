/** Reconnect delays: exponential backoff with jitter, so that many clients do not return in step. */

export interface BackoffOptions {
  /** Delay before the first retry, in ms; default 1000. */
  initialDelayMs?: number;
  /** Largest delay, in ms; default 30000. */
  maxDelayMs?: number;
  /** Growth per failed attempt; default 2. */
  factor?: number;
  /** Share of the delay taken off at random, 0..1; default 0.5 (delay in [d/2, d]). */
  jitter?: number;
}

/** Delay before retry number `attempt` (0 for the first retry), in ms. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialDelayMs = 1000, maxDelayMs = 30_000, factor = 2, jitter = 0.5 } = options;
  const base = Math.min(maxDelayMs, initialDelayMs * factor ** attempt);
  return Math.round(base * (1 - Math.min(1, Math.max(0, jitter)) * random()));
}

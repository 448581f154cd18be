/** When a failed delivery is tried again. Pure: no database, no clock of its own. */
export interface RetryPolicy {
  /** Delay before the second attempt. */
  baseMs: number;
  /** No delay grows beyond this. */
  maxMs: number;
  /** After this many attempts a temporary failure is recorded as permanent. */
  maxAttempts: number;
}

/**
 * Exponential back-off with "equal jitter": half the exponential delay is kept, the other half is random, so a
 * burst of messages that failed together (an SMTP outage) does not come back as one burst, yet no retry comes
 * sooner than half its nominal delay. `attempts` counts the attempts made so far (1 after the first failure).
 */
export function retryDelayMs(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

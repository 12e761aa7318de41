/** How the sender retries a message the SMTP server did not accept (API.md 8). */
export interface RetryPolicy {
  /** The cap of the first retry's delay; it doubles with each attempt... */
  readonly firstDelayMs: number;
  /** ...up to this cap. */
  readonly maxDelayMs: number;
  /** Past this age (from enqueueing), a message is given up: status `failed`. */
  readonly maxAgeMs: number;
}

// 5 s doubling to 10 min: a short blip costs seconds, a long outage costs the SMTP server
// (and the store) one attempt per message every few minutes.
export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'maxAgeMs'> = {
  firstDelayMs: 5_000,
  maxDelayMs: 600_000,
};

// Full jitter may draw a delay near zero; this keeps a floor under a retry storm.
const MIN_DELAY_MS = 1_000;

/**
 * When to try again after failed attempt number `attempts` (1 = the first), or undefined to
 * give up. Exponential backoff with full jitter (a random delay up to the capped exponential
 * one), so the messages queued during an outage don't all come back at the same moment.
 * The last retry is at the deadline (created + maxAge); a failure then gives up.
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  failure: { attempts: number; createdAt: Date; now: Date },
  random: () => number = Math.random,
): Date | undefined {
  const deadline = failure.createdAt.getTime() + policy.maxAgeMs;
  const now = failure.now.getTime();
  if (now >= deadline) return undefined;
  const exponent = Math.min(Math.max(failure.attempts - 1, 0), 30);
  const cap = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** exponent);
  const delay = Math.max(MIN_DELAY_MS, Math.floor(random() * cap));
  return new Date(Math.min(now + delay, deadline));
}

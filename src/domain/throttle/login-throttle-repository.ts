/**
 * How failed logins of one account turn into locks, in milliseconds. Plain data, so the store
 * can apply it inside one statement.
 */
export interface ThrottleSchedule {
  /** Consecutive failures that lock the key: the attempt that makes this many sets a lock. */
  failuresBeforeLock: number;
  /** The first lock; each further one doubles, up to `maxLockMs`. */
  firstLockMs: number;
  maxLockMs: number;
  /** A key with no attempt for this long starts again from zero. */
  forgetAfterMs: number;
}

export type AttemptOutcome =
  /** The attempt was counted and may go on; `lockedUntil` is the lock it set, if any. */
  | { outcome: 'counted'; failures: number; lockedUntil: Date | null }
  /** The key is locked: nothing was counted, the caller must refuse the attempt. */
  | { outcome: 'locked'; lockedUntil: Date };

/**
 * Storage port for per-account login throttling (ASVS 2.2.1). Shared by every instance on one
 * store, so a lock holds whichever instance an attacker reaches. Keys are opaque (a keyed hash of
 * the normalised username), so the table never lists the usernames that were tried.
 * test/contract/login-throttle-repository.test.ts checks each store.
 */
export interface LoginThrottleRepository {
  /**
   * Counts one attempt for `key` at `now` as a failure, before its password is checked (a
   * success clears it). One conditional upsert decides everything:
   * - locked at `now` (`lockedUntil > now`): nothing changes, the outcome is `locked`;
   * - otherwise the count goes up by one (back to 1 when the last attempt is older than
   *   `forgetAfterMs`), and once it reaches `failuresBeforeLock` the same statement sets
   *   `lockedUntil = now + lock` and doubles the next lock (capped at `maxLockMs`).
   * So concurrent callers never lose a count, and from then on at most one of them gets
   * through per lock: a burst of parallel guesses is no faster than a sequence.
   */
  countAttempt(key: string, now: Date, schedule: ThrottleSchedule): Promise<AttemptOutcome>;

  /** Forgets `key` (after a successful login). */
  clear(key: string): Promise<void>;

  /** Deletes keys whose last attempt is at or before `idleSince`; returns how many. */
  purgeIdle(idleSince: Date): Promise<number>;
}

import { createHash } from 'node:crypto';
import { normalizeEmail } from '../accounts/email.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { LoginThrottleRepository, ThrottleSchedule } from './login-throttle-repository.ts';

/** Per-account login throttling settings, in seconds. */
export interface LoginThrottlePolicy {
  /** Consecutive failures of one account before its logins are delayed. */
  failuresBeforeLock: number;
  /** The first delay; each further failure doubles it. */
  firstLockSeconds: number;
  /** No lock lasts longer than this: an attacker can't keep a victim out for more per lock. */
  maxLockSeconds: number;
  /** Failures are forgotten after this long without an attempt. */
  forgetAfterSeconds: number;
}

// ASVS 2.2.1 / NIST 800-63B 5.2.2: a handful of tries, then delays that double, capped so an
// attacker holds a victim's account for at most 15 minutes after each guess.
export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  failuresBeforeLock: 5,
  firstLockSeconds: 1,
  maxLockSeconds: 15 * 60,
  forgetAfterSeconds: 24 * 60 * 60,
};

/** A counted attempt. */
export interface LoginAttempt {
  /** Seconds the account is now locked for if this attempt fails (a success lifts it). */
  lockSeconds: number | null;
}

// Idle keys are deleted at most this often per instance, on the way of a login attempt.
const PURGE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Slows online guessing against one account, whoever sends the guesses and from wherever
 * (ASVS 2.2.1); it holds when the per-IP limits are off. Every attempt is counted before any
 * hashing and cleared by a success, so a locked account costs the server no argon2 work.
 * Unknown emails are counted exactly like known ones: locks reveal nothing about which exist.
 */
export class LoginThrottle {
  readonly #repository: LoginThrottleRepository;
  readonly #clock: Clock;
  readonly #schedule: ThrottleSchedule;
  #lastPurgeMs = Number.NEGATIVE_INFINITY;

  constructor(
    deps: { repository: LoginThrottleRepository; clock: Clock },
    policy: LoginThrottlePolicy,
  ) {
    this.#repository = deps.repository;
    this.#clock = deps.clock;
    this.#schedule = {
      failuresBeforeLock: Math.max(1, policy.failuresBeforeLock),
      firstLockMs: policy.firstLockSeconds * 1000,
      maxLockMs: Math.max(policy.firstLockSeconds, policy.maxLockSeconds) * 1000,
      forgetAfterMs: policy.forgetAfterSeconds * 1000,
    };
  }

  /**
   * Counts a login attempt for `username` before its password is checked; throws
   * `too_many_attempts` (with the seconds to wait) while the account is locked.
   */
  async beginAttempt(username: string): Promise<LoginAttempt> {
    const now = this.#clock.now();
    await this.#purgeNowAndThen(now);
    const result = await this.#repository.countAttempt(throttleKey(username), now, this.#schedule);
    if (result.outcome === 'locked') {
      const waitMs = result.lockedUntil.getTime() - now.getTime();
      throw new GatehouseError(
        'too_many_attempts',
        'Too many failed login attempts; try again later',
        { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
      );
    }
    const lockMs = result.lockedUntil && result.lockedUntil.getTime() - now.getTime();
    return { lockSeconds: lockMs ? Math.ceil(lockMs / 1000) : null };
  }

  /** The password was right: the account's failures are forgotten. */
  async clearFailures(username: string): Promise<void> {
    await this.#repository.clear(throttleKey(username));
  }

  async #purgeNowAndThen(now: Date): Promise<void> {
    if (now.getTime() - this.#lastPurgeMs < PURGE_INTERVAL_MS) return;
    this.#lastPurgeMs = now.getTime();
    // Keys of unknown emails (credential stuffing) would otherwise pile up forever.
    await this.#repository.purgeIdle(new Date(now.getTime() - this.#schedule.forgetAfterMs));
  }
}

/**
 * The store key of an account: SHA-256 of the normalised email, so `Alice@X` and `alice@x`
 * share one count, keys have a fixed size whatever a client sends, and the table doesn't list
 * the addresses that were tried.
 */
export function throttleKey(username: string): string {
  return createHash('sha256').update(normalizeEmail(username)).digest('hex');
}

import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { normalizeEmail } from '../email-address.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { SettingsRepository } from '../tokens/signing-key.ts';
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
  readonly #keySecret: Buffer;
  readonly #secondFactorKeySecret: Buffer;
  #lastPurgeMs = Number.NEGATIVE_INFINITY;

  constructor(
    deps: { repository: LoginThrottleRepository; clock: Clock; keySecret: Buffer },
    policy: LoginThrottlePolicy,
  ) {
    this.#repository = deps.repository;
    this.#clock = deps.clock;
    this.#keySecret = deps.keySecret;
    // Its own HMAC key: no username typed at the password grant can land on (and lock, or
    // clear) an account's second-factor count.
    this.#secondFactorKeySecret = Buffer.from(
      hkdfSync('sha256', deps.keySecret, '', 'gatehouse second factor throttle', 32),
    );
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
    return this.#begin(this.#keyOf(username));
  }

  /**
   * Counts a second-factor attempt (a TOTP or recovery code, API.md 9) of user `userId`, the
   * same schedule as passwords but its own count: a correct password does not clear it, so
   * re-entering the password can't buy more code guesses, and parallel `mfa_token`s share it.
   */
  async beginSecondFactorAttempt(userId: number): Promise<LoginAttempt> {
    return this.#begin(this.#secondFactorKeyOf(userId));
  }

  /** The second factor was right: its failures are forgotten. */
  async clearSecondFactorFailures(userId: number): Promise<void> {
    await this.#repository.clear(this.#secondFactorKeyOf(userId));
  }

  #secondFactorKeyOf(userId: number): string {
    return createHmac('sha256', this.#secondFactorKeySecret).update(String(userId)).digest('hex');
  }

  async #begin(key: string): Promise<LoginAttempt> {
    const now = this.#clock.now();
    await this.#purgeNowAndThen(now);
    const result = await this.#repository.countAttempt(key, now, this.#schedule);
    if (result.outcome === 'locked') {
      const waitMs = result.lockedUntil.getTime() - now.getTime();
      throw new GatehouseError(
        'too_many_attempts',
        'Too many failed login attempts for this account; try again later',
        { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
      );
    }
    const lockMs = result.lockedUntil && result.lockedUntil.getTime() - now.getTime();
    return { lockSeconds: lockMs ? Math.ceil(lockMs / 1000) : null };
  }

  /** The password was right: the account's failures are forgotten. */
  async clearFailures(username: string): Promise<void> {
    await this.#repository.clear(this.#keyOf(username));
  }

  async #purgeNowAndThen(now: Date): Promise<void> {
    if (now.getTime() - this.#lastPurgeMs < PURGE_INTERVAL_MS) return;
    this.#lastPurgeMs = now.getTime();
    // Keys of unknown emails (credential stuffing) would otherwise pile up forever.
    await this.#repository.purgeIdle(new Date(now.getTime() - this.#schedule.forgetAfterMs));
  }

  /**
   * The store key of an account: HMAC-SHA256 of the normalised username, so `Alice@X` and
   * `alice@x` share one count and keys have a fixed size whatever a client sends. Keyed
   * (ASVS 7.1.1 / CWE-532): people type passwords into the username field, and a plain hash of
   * one would be cracked offline from a copy of the table; without the secret it can't be.
   */
  #keyOf(username: string): string {
    return createHmac('sha256', this.#keySecret).update(normalizeEmail(username)).digest('hex');
  }
}

const THROTTLE_SECRET_SETTING = 'login_throttle_key_secret';

/**
 * The HMAC key of the throttle's store keys, the same on every instance: derived (HKDF) from
 * the configured JWT secret, which is not in the store, so a copy of the database alone can't
 * test guesses against the keys; without one (development), a random key kept in the store.
 * A new JWT secret gives new keys: the counts start again once, like after a restart.
 */
export async function resolveThrottleKeySecret(
  configuredSecret: string | undefined,
  settings: SettingsRepository,
): Promise<Buffer> {
  if (configuredSecret !== undefined) {
    return Buffer.from(hkdfSync('sha256', configuredSecret, '', 'gatehouse login throttle', 32));
  }
  const stored = await settings.getOrInsert(
    THROTTLE_SECRET_SETTING,
    randomBytes(32).toString('base64url'),
  );
  return Buffer.from(stored, 'base64url');
}

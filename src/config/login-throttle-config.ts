import type { LoginThrottlePolicy } from '../domain/throttle/login-throttle.ts';
import type { EnvReader } from './env-reader.ts';

/** Reads the per-account login throttle of GATEHOUSE_LOGIN_*. */
export function readLoginThrottle(read: EnvReader): LoginThrottlePolicy {
  return {
    // ASVS 2.2.1 / NIST 800-63B 5.2.2: five tries, then 1 s doubling up to 15 min (what an
    // attacker can hold a victim's account for after each guess); forgotten after a quiet day.
    failuresBeforeLock: read.integer('GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK', 5, 1, 1000),
    firstLockSeconds: read.integer('GATEHOUSE_LOGIN_FIRST_LOCK', 1, 1, 3600),
    maxLockSeconds: read.integer('GATEHOUSE_LOGIN_MAX_LOCK', 900, 1, 86_400),
    forgetAfterSeconds: read.integer('GATEHOUSE_LOGIN_FORGET_AFTER', 86_400, 60, 86_400 * 30),
  };
}

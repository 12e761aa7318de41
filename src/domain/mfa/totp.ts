import { randomInt, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { KeyEncryption } from '../tokens/key-material.ts';
import type { SecretEncryption, StoredTotpFactor } from './mfa-repository.ts';
import { sha256Hex } from './mfa-challenge.ts';

// RFC 6238 as every authenticator app implements it by default (API.md 9): SHA-1, 6 digits, 30 s.
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** RFC 6238 5.2: one step of skew either way (at most 90 s of codes accepted at a time). */
const WINDOW = 1;

/** The RFC 6238 time step of `now`. */
export function timeStepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / PERIOD_SECONDS);
}

/** A new random secret, base32: 160 bits (RFC 4226 4: at least 128, 160 recommended). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The TOTP code of `secret` (base32) at time step `step`. */
export function totpCodeAt(secret: string, step: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    timestamp: step * PERIOD_SECONDS * 1000,
  });
}

/** The `otpauth://` URI authenticator apps read from the QR code (Key Uri Format). */
export function otpauthUri(secret: string, issuer: string, account: string): string {
  return new TOTP({
    issuer,
    label: account,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
  }).toString();
}

/** A user-typed TOTP code, spaces removed; undefined when it is not one (six digits). */
export function asTotpCode(input: string): string | undefined {
  const code = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(code) ? code : undefined;
}

/**
 * The time step within ±1 of `now` whose code is `code`, newer than `lastUsedStep` (a code is
 * accepted at most once, and none older than the last accepted: RFC 6238 5.2); undefined when
 * none. Every step is compared in constant time, and the caller records the step with a
 * conditional UPDATE, which decides between concurrent submissions.
 */
export function matchingStep(
  secret: string,
  code: string,
  now: Date,
  lastUsedStep: number,
): number | undefined {
  const current = timeStepAt(now);
  let found: number | undefined;
  for (let delta = -WINDOW; delta <= WINDOW; delta += 1) {
    const step = current + delta;
    const expected = Buffer.from(totpCodeAt(secret, step));
    const given = Buffer.from(code.padEnd(DIGITS, ' ').slice(0, DIGITS));
    if (timingSafeEqual(expected, given) && step > lastUsedStep && found === undefined) {
      found = step;
    }
  }
  return found;
}

/**
 * TOTP secrets at rest (API.md 7's rule for private keys): sealed with AES-256-GCM under
 * GATEHOUSE_KEY_ENCRYPTION_KEY when it is set, the user id as associated data (a sealed secret
 * copied to another user's row fails to open); stored as is otherwise (development).
 */
export class TotpSecrets {
  readonly #encryption: KeyEncryption | undefined;
  /** `encryption`: the current key (and the previous one while it is being changed), if set. */
  constructor(encryption: KeyEncryption | undefined) {
    this.#encryption = encryption;
  }

  seal(secret: string, userId: number): { secret: string; secretEncryption: SecretEncryption } {
    if (!this.#encryption) return { secret, secretEncryption: 'none' };
    return {
      secret: this.#encryption.seal(Buffer.from(secret, 'utf8'), associatedData(userId)),
      secretEncryption: 'aes-256-gcm',
    };
  }

  /** Throws when the secret is sealed and the configured key (or previous key) is missing or another. */
  open(factor: StoredTotpFactor): string {
    if (factor.secretEncryption === 'none') return factor.secret;
    if (!this.#encryption) {
      throw new Error(
        'a TOTP secret is encrypted at rest, but GATEHOUSE_KEY_ENCRYPTION_KEY is unset',
      );
    }
    return this.#encryption.open(factor.secret, associatedData(factor.userId)).toString('utf8');
  }
}

/** The associated data a user's TOTP secret is sealed with (`gatehouse reseal` needs it too). */
export const associatedData = (userId: number) => `totp-secret:${userId}`;

// RFC 4648 base32 alphabet, without 0/1/8/9 so codes read aloud or typed are unambiguous.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_CHARS = 10; // 50 bits each (NIST 800-63B 5.1.2.2: look-up secrets ≥ 20 bits)

/** 10 new recovery codes, `XXXXX-XXXXX`, 50 random bits each (API.md 9). */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let code = '';
    for (let i = 0; i < RECOVERY_CODE_CHARS; i += 1) code += BASE32[randomInt(32)];
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/**
 * What the store keeps of a recovery code: SHA-256 over the user id and the normalised code,
 * so one guess can't be tried against every user's hashes at once. NIST 800-63B 5.1.2.2 asks
 * a salted key-derivation function for look-up secrets under 112 bits; the 50 bits here are
 * guarded online by the per-token and per-account bounds and single use, and a fast hash keeps
 * a check off the event loop. (README "Multi-factor authentication" states this trade-off.)
 */
export function hashRecoveryCode(userId: number, input: string): string {
  return sha256Hex(`${userId}:${input.toUpperCase().replace(/[\s-]+/g, '')}`);
}

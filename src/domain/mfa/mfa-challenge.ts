import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { MfaRepository } from './mfa-repository.ts';

/** API.md 9: an `mfa_token` lives 5 minutes. */
export const MFA_TOKEN_TTL_SECONDS = 5 * 60;
/** Codes tried per `mfa_token` before it is dead (NIST 800-63B 5.2.2; the account count also applies). */
export const MFA_TOKEN_MAX_ATTEMPTS = 5;

/** SHA-256 (hex): what the store keeps of an `mfa_token`, a recovery code or a password hash. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Opens the MFA step of a password grant whose password was just proven: a new opaque
 * `mfa_token` (256 random bits; stored only as its SHA-256, like refresh tokens: a copy of the
 * store can't finish anyone's login), single use, valid 5 minutes. It is no access token: no
 * endpoint but the mfa-otp grant accepts it. Returns the token for the 403 `mfa_required`.
 */
export async function issueMfaChallenge(
  deps: { mfa: MfaRepository; clock: Clock },
  input: { userId: number; scope: string; sessionScope: string; passwordHash: string },
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  await deps.mfa.createChallenge({
    tokenHash: sha256Hex(token),
    userId: input.userId,
    scope: input.scope,
    sessionScope: input.sessionScope,
    passwordDigest: sha256Hex(input.passwordHash),
    createdAt: now,
    expiresAt: new Date(now.getTime() + MFA_TOKEN_TTL_SECONDS * 1000),
  });
  return token;
}

/** The password grant's answer for a user with a second factor (API.md 9). */
export function mfaRequired(mfaToken: string): GatehouseError {
  return new GatehouseError('mfa_required', 'Multi-factor authentication required', {
    mfaToken,
  });
}

/**
 * The "user has a second factor" rule every token-issuing path asks (API.md 9). TOTP today;
 * passkeys extend MfaRepository.hasSecondFactor (the store's `secondFactorExists`).
 */
export function hasSecondFactor(deps: { mfa: MfaRepository }, userId: number): Promise<boolean> {
  return deps.mfa.hasSecondFactor(userId);
}

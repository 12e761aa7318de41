import type { UserRepository } from '../accounts/user-repository.ts';
import type { UserWithHash } from '../accounts/user.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent, recordOwnAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import type { ClientInfo } from '../client-info.ts';
import type { MfaRepository } from './mfa-repository.ts';
import {
  asTotpCode,
  hashRecoveryCode,
  matchingStep,
  newRecoveryCodes,
  newTotpSecret,
  otpauthUri,
  type TotpSecrets,
} from './totp.ts';

export interface TotpEnrolmentDeps {
  users: UserRepository;
  mfa: MfaRepository;
  hasher: PasswordHasher;
  clock: Clock;
  audit: AuditLog;
  throttle: LoginThrottle;
  secrets: TotpSecrets;
  /** The issuer shown by authenticator apps (the public URL's host). */
  issuer: string;
}

export interface MfaStatus {
  /** Any second factor (passkeys included once they exist): the password alone won't do. */
  mfaEnabled: boolean;
  totp: 'enabled' | 'pending' | 'disabled';
  recoveryCodesLeft: number;
}

/**
 * ASVS 2.1.5-style re-authentication before a factor changes: whoever holds a stolen access
 * token can't add or remove a factor. Counted and locked like logins (ASVS 2.2.1).
 */
async function proveCurrentPassword(
  deps: TotpEnrolmentDeps,
  userId: number,
  password: string,
): Promise<UserWithHash> {
  const user = await deps.users.findCredentialsById(userId);
  if (!user) throw new GatehouseError('not_found', 'User not found');
  await deps.throttle.beginAttempt(user.email);
  if (!(await deps.hasher.verify(user.passwordHash, password)).valid) {
    throw new GatehouseError('incorrect_password', 'Incorrect password');
  }
  await deps.throttle.clearFailures(user.email);
  return user;
}

/** POST /users/me/mfa/totp: a new pending secret; nothing changes for logins until confirmed. */
export async function startTotpEnrolment(
  deps: TotpEnrolmentDeps,
  input: { userId: number; currentPassword: string; client?: ClientInfo },
): Promise<{ secret: string; otpauthUri: string }> {
  const user = await proveCurrentPassword(deps, input.userId, input.currentPassword);
  const secret = newTotpSecret();
  const started = await deps.mfa.startTotp({
    userId: user.id,
    ...deps.secrets.seal(secret, user.id),
    createdAt: deps.clock.now(),
  });
  if (!started) {
    throw new GatehouseError('mfa_already_enabled', 'Two-factor authentication is already enabled');
  }
  await recordOwnAuditEvent(deps, 'mfa.totp_started', user, input.client);
  return { secret, otpauthUri: otpauthUri(secret, deps.issuer, user.email) };
}

/**
 * POST /users/me/mfa/totp/confirm: a correct code of the pending secret turns TOTP on (the
 * code's step counts as used) and returns 10 recovery codes, shown this once (API.md 9).
 */
export async function confirmTotpEnrolment(
  deps: TotpEnrolmentDeps,
  input: { userId: number; code: string; client?: ClientInfo },
): Promise<string[]> {
  const factor = await deps.mfa.findTotp(input.userId);
  if (!factor || factor.confirmedAt) {
    throw new GatehouseError('mfa_not_pending', 'No two-factor enrolment in progress');
  }
  const code = asTotpCode(input.code);
  const step =
    code === undefined
      ? undefined
      : matchingStep(deps.secrets.open(factor), code, deps.clock.now(), factor.lastUsedStep);
  if (step === undefined) throw new GatehouseError('invalid_mfa_code', 'Invalid code');
  const codes = newRecoveryCodes();
  const confirmed = await deps.mfa.confirmTotp(
    input.userId,
    step,
    deps.clock.now(),
    codes.map((c) => hashRecoveryCode(input.userId, c)),
  );
  if (!confirmed) {
    throw new GatehouseError('mfa_not_pending', 'No two-factor enrolment in progress');
  }
  const user = await deps.users.findById(input.userId);
  await recordAuditEvent(
    deps,
    'mfa.totp_enabled',
    { actorId: input.userId, subjectId: input.userId, email: user?.email ?? null },
    input.client,
  );
  return codes;
}

/** DELETE /users/me/mfa/totp: with the current password; the recovery codes go too. */
export async function disableTotp(
  deps: TotpEnrolmentDeps,
  input: { userId: number; currentPassword: string; client?: ClientInfo },
): Promise<void> {
  const user = await proveCurrentPassword(deps, input.userId, input.currentPassword);
  if (!(await deps.mfa.deleteTotp(user.id))) {
    throw new GatehouseError('not_found', 'Two-factor authentication is not enabled');
  }
  await recordOwnAuditEvent(deps, 'mfa.totp_disabled', user, input.client);
}

/** POST /users/me/mfa/recovery-codes: 10 new codes replace the old, with the current password. */
export async function regenerateRecoveryCodes(
  deps: TotpEnrolmentDeps,
  input: { userId: number; currentPassword: string; client?: ClientInfo },
): Promise<string[]> {
  const user = await proveCurrentPassword(deps, input.userId, input.currentPassword);
  const codes = newRecoveryCodes();
  const replaced = await deps.mfa.replaceRecoveryCodes(
    user.id,
    codes.map((c) => hashRecoveryCode(user.id, c)),
    deps.clock.now(),
  );
  if (!replaced) throw new GatehouseError('not_found', 'Two-factor authentication is not enabled');
  await recordOwnAuditEvent(deps, 'mfa.recovery_codes_regenerated', user, input.client);
  return codes;
}

export async function mfaStatus(deps: { mfa: MfaRepository }, userId: number): Promise<MfaStatus> {
  const factor = await deps.mfa.findTotp(userId);
  return {
    mfaEnabled: await deps.mfa.hasSecondFactor(userId),
    totp: !factor ? 'disabled' : factor.confirmedAt ? 'enabled' : 'pending',
    recoveryCodesLeft: factor?.confirmedAt ? await deps.mfa.countUnusedRecoveryCodes(userId) : 0,
  };
}

/** DELETE /users/{id}/mfa (API.md 9): an admin removes every second factor of a user. */
export async function resetUserMfa(
  deps: { users: UserRepository; mfa: MfaRepository; clock: Clock; audit: AuditLog },
  input: { actorId: number | null; userId: number; client?: ClientInfo },
): Promise<void> {
  const user = await deps.users.findById(input.userId);
  if (!user) throw new GatehouseError('not_found', 'User not found');
  const removed = await deps.mfa.resetFactors(user.id);
  await recordAuditEvent(
    deps,
    'mfa.reset',
    { actorId: input.actorId, subjectId: user.id, email: user.email, details: { removed } },
    input.client,
  );
}

import type { UserRepository } from '../accounts/user-repository.ts';
import type { UserWithHash } from '../accounts/user.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { MailTokenRepository } from '../email/mail-token-repository.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import type { SessionRepository } from '../sessions/session-repository.ts';
import type { ClientInfo } from '../client-info.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { checkPasswordPolicy, type PasswordPolicy } from './password-policy.ts';

export interface ChangePasswordDeps {
  users: UserRepository;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  clock: Clock;
  policy: PasswordPolicy;
  audit: AuditLog;
  throttle: LoginThrottle;
  mailTokens: Pick<MailTokenRepository, 'voidUnused'>;
}

/**
 * PUT /users/me/password (API.md 2): proves the current password (ASVS 2.1.5), applies the
 * policy to the new one, stores its hash and ends every other session of the user (ASVS
 * 3.3.3); the calling session stays valid.
 */
export async function changePassword(
  deps: ChangePasswordDeps,
  input: {
    userId: number;
    sessionId: string;
    currentPassword: string;
    newPassword: string;
    client?: ClientInfo;
  },
): Promise<void> {
  const login = await findLogin(deps, input.userId);
  // ASVS 2.2.1: whoever holds a stolen access token can't guess the current password faster
  // than a login could; the same per-account count and lock apply.
  await deps.throttle.beginAttempt(login.email);
  await verifyCurrentPassword(deps, login, input.currentPassword);
  await deps.throttle.clearFailures(login.email);
  try {
    checkPasswordPolicy(input.newPassword, deps.policy, login.email);
  } catch (error) {
    if (isGatehouseError(error, 'invalid_input')) {
      throw new GatehouseError('invalid_input', error.message, { field: 'new_password' });
    }
    throw error;
  }
  await storeOverVerifiedHash(
    deps,
    login,
    await deps.hasher.hash(input.newPassword),
    input.currentPassword,
  );
  // Only now that the new hash is stored: every login still opening a session with the old
  // one either finished before (ended here) or is refused (SessionRepository.create).
  const ended = await deps.sessions.revokeAllForUser(
    login.id,
    deps.clock.now(),
    'password_changed',
    input.sessionId,
  );
  // OWASP Forgot Password Cheat Sheet: a reset link asked for before this change would set a
  // password over the one the user just chose; it is void now.
  const resetLinksVoided = await deps.mailTokens.voidUnused(
    login.id,
    'password_reset',
    deps.clock.now(),
  );
  await recordAuditEvent(
    deps,
    'password.changed',
    {
      actorId: login.id,
      subjectId: login.id,
      email: login.email,
      details: { other_sessions_ended: ended, reset_links_voided: resetLinksVoided },
    },
    input.client,
  );
}

// A login's rehash replaces the hash at most once per password; more is not a race we lose.
const MAX_TRIES = 3;

function incorrectPassword(): GatehouseError {
  return new GatehouseError('incorrect_password', 'Incorrect password');
}

/**
 * Stores `newHash` only over the hash the current password was checked against. Another hash
 * stored meanwhile is either a concurrent change (the current password is no longer current,
 * and checking it again refuses it) or a login's upgrade of the same password (the check
 * passes, and the store is tried again over the upgraded hash).
 */
async function storeOverVerifiedHash(
  deps: ChangePasswordDeps,
  verified: UserWithHash,
  newHash: string,
  currentPassword: string,
): Promise<void> {
  let login = verified;
  for (let tries = 1; tries <= MAX_TRIES; tries += 1) {
    if (await deps.users.updatePasswordHash(login.id, newHash, login.passwordHash)) return;
    login = await findLogin(deps, login.id);
    await verifyCurrentPassword(deps, login, currentPassword);
  }
  throw incorrectPassword();
}

/** The user with their stored hash; `not_found` once deleted (the caller's token dies too). */
async function findLogin(deps: ChangePasswordDeps, userId: number): Promise<UserWithHash> {
  const login = await deps.users.findCredentialsById(userId);
  if (!login) throw new GatehouseError('not_found', 'User not found');
  return login;
}

async function verifyCurrentPassword(
  deps: ChangePasswordDeps,
  login: UserWithHash,
  password: string,
): Promise<void> {
  const check = await deps.hasher.verify(login.passwordHash, password);
  if (!check.valid) throw incorrectPassword();
}

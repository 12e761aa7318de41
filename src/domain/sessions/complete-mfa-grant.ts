import type { UserRepository } from '../accounts/user-repository.ts';
import type { UserWithHash } from '../accounts/user.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent, recordOwnAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { openSessionWithTokens, type TokenGrant } from './issue-tokens.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import type { ClientInfo } from '../client-info.ts';
import { newSession } from './session.ts';
import type { SessionRepository } from './session-repository.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { MFA_TOKEN_MAX_ATTEMPTS, sha256Hex } from '../mfa/mfa-challenge.ts';
import type { MfaRepository } from '../mfa/mfa-repository.ts';

export interface MfaGrantDeps {
  users: UserRepository;
  sessions: SessionRepository;
  tokens: AccessTokens;
  clock: Clock;
  audit: AuditLog;
  throttle: LoginThrottle;
  mfa: MfaRepository;
  sessionTtlSeconds: number;
}

/** How a second factor was proven, for the audit log. */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey';

/** A second-factor check: the method when the proof is right (and now spent), else undefined. */
export type SecondFactorCheck = (user: UserWithHash) => Promise<SecondFactorMethod | undefined>;

function invalidMfaToken(): GatehouseError {
  return new GatehouseError('invalid_grant', 'Invalid or expired mfa_token');
}

/**
 * The second step of a password grant (API.md 9): given the `mfa_token` of a 403
 * `mfa_required` and a proof checked by `check` (a TOTP or recovery code; passkeys bring their
 * own check), opens the session exactly as the password grant would have, with the scope it
 * decided. Every attempt is counted on the token (at most 5, then it is dead) and on the
 * account (LoginThrottle, ASVS 2.2.1) before the proof is checked; the token is consumed by the
 * one success. A password change or reset since the password grant voids the token.
 */
export async function completeMfaGrant(
  deps: MfaGrantDeps,
  input: { mfaToken: string; client: ClientInfo; check: SecondFactorCheck },
): Promise<TokenGrant> {
  const tokenHash = sha256Hex(input.mfaToken);
  const challenge = await deps.mfa.attemptChallenge(
    tokenHash,
    deps.clock.now(),
    MFA_TOKEN_MAX_ATTEMPTS,
  );
  if (!challenge) throw invalidMfaToken();
  const user = await deps.users.findCredentialsById(challenge.userId);
  // A password change or reset (or a disable) since the password grant: this token is void.
  if (!user || user.disabled || sha256Hex(user.passwordHash) !== challenge.passwordDigest) {
    await deps.mfa.consumeChallenge(tokenHash, deps.clock.now());
    throw invalidMfaToken();
  }
  const failed = (reason: string) =>
    recordAuditEvent(
      deps,
      'mfa.failed',
      {
        subjectId: user.id,
        email: user.email,
        details: { reason, attempts: challenge.attempts },
      },
      input.client,
    );
  try {
    await deps.throttle.beginSecondFactorAttempt(user.id);
  } catch (error) {
    await failed('locked');
    throw error;
  }
  const method = await input.check(user);
  if (!method) {
    await failed('wrong_code');
    throw new GatehouseError('invalid_mfa_code', 'Invalid code');
  }
  await deps.throttle.clearSecondFactorFailures(user.id);
  // Of concurrent right answers on one token, one session.
  if (!(await deps.mfa.consumeChallenge(tokenHash, deps.clock.now()))) throw invalidMfaToken();

  const session = newSession({
    userId: user.id,
    client: input.client,
    scope: challenge.sessionScope,
    now: deps.clock.now(),
    ttlSeconds: deps.sessionTtlSeconds,
  });
  // ASVS 3.3.3: opened only over the password hash just checked (SessionRepository.create),
  // with its refresh token in the same commit.
  const grant = await openSessionWithTokens(deps, session, user.passwordHash, challenge.scope);
  if (!grant) throw invalidMfaToken();
  await recordOwnAuditEvent(deps, 'mfa.succeeded', user, input.client, { method });
  await recordAuditEvent(
    deps,
    'login.succeeded',
    {
      actorId: user.id,
      subjectId: user.id,
      email: user.email,
      details: { session_id: session.id, mfa: method },
    },
    input.client,
  );
  return grant;
}

import { normalizeEmail } from '../email-address.ts';
import type { UserRepository } from '../accounts/user-repository.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent, recordOwnAuditEvent } from '../audit/record-audit-event.ts';
import { usernameForAudit } from '../audit/username-for-audit.ts';
import { grantScope, sessionScopeFor } from '../authz/scopes.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { issueMfaChallenge, mfaRequired } from '../mfa/mfa-challenge.ts';
import type { MfaRepository } from '../mfa/mfa-repository.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { openSessionWithTokens, type TokenGrant } from './issue-tokens.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import type { ClientInfo } from '../client-info.ts';
import { newSession } from './session.ts';
import type { SessionRepository } from './session-repository.ts';

export interface PasswordGrantDeps {
  users: UserRepository;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  clock: Clock;
  audit: AuditLog;
  /** Per-account backoff after failed logins (ASVS 2.2.1). */
  throttle: LoginThrottle;
  /** Seconds a session (and its refresh token) lives without a refresh. */
  sessionTtlSeconds: number;
  /** GATEHOUSE_REQUIRE_VERIFIED_EMAIL (API.md 8): unverified users get no session. */
  requireVerifiedEmail?: boolean;
  /** Second factors (API.md 9): a user with one gets `mfa_required`, never tokens, here. */
  mfa: MfaRepository;
}

function invalidCredentials(): GatehouseError {
  return new GatehouseError('invalid_credentials', 'Incorrect username or password');
}

/**
 * RFC 6749 4.3, the resource owner password grant: checks the password, opens a session
 * and issues an access token and a refresh token for it (API.md 2).
 */
export async function passwordGrant(
  deps: PasswordGrantDeps,
  input: { username: string; password: string; scope?: string; client: ClientInfo },
): Promise<TokenGrant> {
  // API.md 3: failures are audited with the email tried (never the password, nor a username
  // that is no email: it may be a password) and the reason, which only admins see; the
  // client's answer stays the same for every reason.
  const loginFailed = (reason: string, subjectId: number | null = null) =>
    recordAuditEvent(
      deps,
      'login.failed',
      {
        subjectId,
        email: usernameForAudit(input.username),
        // The lock this failure set, if any: how operators see an account under attack.
        details: {
          reason,
          ...(attempt.lockSeconds === null ? {} : { locked_seconds: attempt.lockSeconds }),
        },
      },
      input.client,
    );
  // ASVS 2.2.1: counted before any hashing, for unknown emails too; a locked account is a 429.
  const attempt = await deps.throttle.beginAttempt(input.username);
  const user = await deps.users.findByEmailForLogin(normalizeEmail(input.username));
  if (!user) {
    // ASVS 2.2 / RFC 6749 5.2: an unknown user costs a real verify and answers exactly like a
    // wrong password, so neither the body nor the timing reveals which emails exist.
    await deps.hasher.verifyDummy(input.password);
    await loginFailed('unknown_email');
    throw invalidCredentials();
  }
  const check = await deps.hasher.verify(user.passwordHash, input.password);
  // A disabled account answers like a wrong password: no hint that the address exists.
  if (!check.valid || user.disabled) {
    await loginFailed(check.valid ? 'disabled' : 'wrong_password', user.id);
    throw invalidCredentials();
  }
  await deps.throttle.clearFailures(input.username);
  // API.md 8: told only once the password is proven, so it reveals nothing to a guesser.
  if (deps.requireVerifiedEmail && !user.emailVerified) {
    await loginFailed('email_not_verified', user.id);
    throw new GatehouseError('email_not_verified', 'Email not verified');
  }
  // Checked only once the password is proven, so the answer reveals nothing about the role
  // of an account one can't log in to.
  let scope: string;
  try {
    scope = grantScope(input.scope, user.role);
  } catch (error) {
    await loginFailed('invalid_scope', user.id);
    throw error;
  }
  // API.md 9 / ASVS 2.8: asked only once the password is proven (and the email verified, when
  // required), so unknown users and wrong passwords answer exactly as before: no MFA oracle.
  if (await deps.mfa.hasSecondFactor(user.id)) {
    // The upgrade of an old hash happens here too (the MFA step never sees the password); the
    // challenge remembers the hash stored now, which the MFA step checks is still current.
    let provenHash = user.passwordHash;
    if (check.needsRehash) {
      const upgraded = await deps.hasher.hash(input.password);
      if (await deps.users.updatePasswordHash(user.id, upgraded, user.passwordHash)) {
        provenHash = upgraded;
      }
    }
    const mfaToken = await issueMfaChallenge(deps, {
      userId: user.id,
      scope,
      sessionScope: sessionScopeFor(input.scope, scope),
      passwordHash: provenHash,
    });
    await recordOwnAuditEvent(deps, 'mfa.required', user, input.client);
    throw mfaRequired(mfaToken);
  }

  const session = newSession({
    userId: user.id,
    client: input.client,
    scope: sessionScopeFor(input.scope, scope),
    now: deps.clock.now(),
    ttlSeconds: deps.sessionTtlSeconds,
  });
  // ASVS 3.3.3: opened only while the hash just verified is still the stored one, so a password
  // change (or a disable or deletion) that landed while this login was hashing wins: the login
  // answers like a wrong password, and no session of the old password outlives the change. The
  // session and its refresh token are stored in one commit (issue 21).
  const grant = await openSessionWithTokens(deps, session, user.passwordHash, scope);
  if (!grant) {
    await loginFailed('account_changed', user.id);
    throw invalidCredentials();
  }
  if (check.needsRehash) {
    // Upgrade imported bcrypt or older argon2 parameters now that we hold the plain password,
    // only over the hash verified: if another is stored by now, it is a newer password (whose
    // change ended the session above) or another login's upgrade, and it stays.
    await deps.users.updatePasswordHash(
      user.id,
      await deps.hasher.hash(input.password),
      user.passwordHash,
    );
  }
  await recordOwnAuditEvent(deps, 'login.succeeded', user, input.client, {
    session_id: session.id,
  });
  return grant;
}

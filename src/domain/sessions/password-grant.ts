import { randomUUID } from 'node:crypto';
import { normalizeEmail } from '../accounts/email.ts';
import type { UserRepository } from '../accounts/user-repository.ts';
import { defaultScopeFor } from '../authz/scopes.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { issueTokens, type TokenGrant } from './issue-tokens.ts';
import type { ClientInfo } from './session.ts';
import type { SessionRepository } from './session-repository.ts';

export interface PasswordGrantDeps {
  users: UserRepository;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  clock: Clock;
  /** Seconds a session (and its refresh token) lives without a refresh. */
  sessionTtlSeconds: number;
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
  input: { username: string; password: string; client: ClientInfo },
): Promise<TokenGrant> {
  const user = await deps.users.findByEmailForLogin(normalizeEmail(input.username));
  if (!user) {
    // ASVS 2.2 / RFC 6749 5.2: an unknown user costs a real verify and answers exactly like a
    // wrong password, so neither the body nor the timing reveals which emails exist.
    await deps.hasher.verifyDummy(input.password);
    throw invalidCredentials();
  }
  const check = await deps.hasher.verify(user.passwordHash, input.password);
  // A disabled account answers like a wrong password: no hint that the address exists.
  if (!check.valid || user.disabled) throw invalidCredentials();
  if (check.needsRehash) {
    // Upgrade imported bcrypt or older argon2 parameters now that we hold the plain password.
    await deps.users.updatePasswordHash(user.id, await deps.hasher.hash(input.password));
  }

  const now = deps.clock.now();
  const sessionId = randomUUID();
  const scope = defaultScopeFor(user.role);
  const expiresAt = new Date(now.getTime() + deps.sessionTtlSeconds * 1000);
  await deps.sessions.create({
    id: sessionId,
    userId: user.id,
    createdAt: now,
    lastUsedAt: now,
    expiresAt,
    revokedAt: null,
    userAgent: input.client.userAgent,
    ip: input.client.ip,
    scope,
  });
  return issueTokens(deps, { userId: user.id, sessionId, scope, refreshExpiresAt: expiresAt });
}

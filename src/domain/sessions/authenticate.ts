import type { User } from '../accounts/user.ts';
import { narrowScope } from '../authz/scopes.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from '../tokens/access-tokens.ts';
import type { ActiveSession, SessionRepository } from './session-repository.ts';

export interface Principal {
  user: User;
  sessionId: string;
  scopes: ReadonlySet<string>;
}

export interface AuthenticateDeps {
  tokens: AccessTokens;
  sessions: SessionRepository;
  clock: Clock;
}

// last_used_at is written at most this often per session, so reads stay reads.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Turns a bearer access token into the caller. Beyond the JWT checks, the session and the
 * user are read from the store on every request (one indexed read), so logout, disabling
 * and role changes take effect at once rather than at token expiry (API.md 2, 3).
 */
export async function authenticate(deps: AuthenticateDeps, token: string): Promise<Principal> {
  const { claims, session, scope, now } = await resolveAccessToken(deps, token);
  if (now.getTime() - session.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await deps.sessions.touch(claims.sessionId, now);
  }
  return {
    user: session.user,
    sessionId: claims.sessionId,
    scopes: new Set(scope.split(' ').filter(Boolean)),
  };
}

/**
 * The check every use of an access token shares (authenticate, POST /introspect): a valid
 * signature and claims, and a live session of an enabled user read from the store now. Writes
 * nothing: recording use (touch) is the caller's choice. Throws `token_expired` or
 * `invalid_token`.
 */
export async function resolveAccessToken(
  deps: AuthenticateDeps,
  token: string,
): Promise<{ claims: AccessTokenClaims; session: ActiveSession; scope: string; now: Date }> {
  const claims = await deps.tokens.verify(token);
  const now = deps.clock.now();
  const session = await deps.sessions.findActive(claims.sessionId, claims.userId, now);
  if (!session) throw new GatehouseError('invalid_token', 'Could not validate credentials');
  // The session's scope against today's role, not the token's claim: a promotion, demotion
  // or scope narrowing applies on the next request (API.md 3).
  return { claims, session, scope: narrowScope(session.scope, session.user.role), now };
}

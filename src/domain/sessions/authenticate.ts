import type { User } from '../accounts/user.ts';
import { narrowScope } from '../authz/scopes.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import type { SessionRepository } from './session-repository.ts';

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
  const claims = await deps.tokens.verify(token);
  const now = deps.clock.now();
  const session = await deps.sessions.findActive(claims.sessionId, claims.userId, now);
  if (!session) throw new GatehouseError('invalid_token', 'Could not validate credentials');
  if (now.getTime() - session.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await deps.sessions.touch(claims.sessionId, now);
  }
  return {
    user: session.user,
    sessionId: claims.sessionId,
    // The session's scope against today's role, not the token's claim: a promotion, demotion
    // or scope narrowing applies on the next request (API.md 3).
    scopes: new Set(narrowScope(session.scope, session.user.role).split(' ').filter(Boolean)),
  };
}

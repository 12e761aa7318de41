import type { User } from '../accounts/user.ts';
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

/**
 * Turns a bearer access token into the caller. Beyond the JWT checks, the session and the
 * user are read from the store on every request (one indexed read), so logout, disabling
 * and role changes take effect at once rather than at token expiry (API.md 2, 3).
 */
export async function authenticate(deps: AuthenticateDeps, token: string): Promise<Principal> {
  const claims = await deps.tokens.verify(token);
  const user = await deps.sessions.findActiveUser(
    claims.sessionId,
    claims.userId,
    deps.clock.now(),
  );
  if (!user) throw new GatehouseError('invalid_token', 'Could not validate credentials');
  return {
    user,
    sessionId: claims.sessionId,
    scopes: new Set(claims.scope.split(' ').filter(Boolean)),
  };
}

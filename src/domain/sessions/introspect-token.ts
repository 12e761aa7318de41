import { isGatehouseError } from '../errors.ts';
import { resolveAccessToken, type AuthenticateDeps } from './authenticate.ts';

/** What RFC 7662 2.2 answers, before the HTTP layer names the fields. */
export type Introspection =
  | { active: false }
  | {
      active: true;
      userId: number;
      /** The user's email: RFC 7662 `username`, a human-readable identifier. */
      username: string;
      sessionId: string;
      /** The session's effective scope now (as authenticate computes it), not the token's claim. */
      scope: string;
      issuedAt: Date;
      expiresAt: Date;
    };

const INACTIVE: Introspection = Object.freeze({ active: false });

/**
 * RFC 7662 2.2: an access token is active when its signature and claims verify AND its
 * session is live AND its user enabled: the very check `authenticate` makes (one shared
 * function), so logout, revocation, a password change, disabling and deletion show as
 * inactive at once, on every instance. It never touches `last_used_at`: an introspection is
 * a resource server's check, not the user's activity. Refresh tokens are never active here:
 * only Gatehouse itself consumes them, and a resource server has no business holding one.
 * Anything else (unknown, expired, malformed) is `{active:false}` and nothing more.
 */
export async function introspectToken(
  deps: AuthenticateDeps,
  token: string,
): Promise<Introspection> {
  try {
    const { claims, session, scope } = await resolveAccessToken(deps, token);
    return {
      active: true,
      userId: claims.userId,
      username: session.user.email,
      sessionId: claims.sessionId,
      scope,
      issuedAt: claims.issuedAt,
      expiresAt: claims.expiresAt,
    };
  } catch (error) {
    // Only a token's own faults are "inactive": a store outage stays an error (503), so a
    // resource server never takes an outage for a revoked token, nor the reverse.
    if (isGatehouseError(error, 'invalid_token') || isGatehouseError(error, 'token_expired')) {
      return INACTIVE;
    }
    throw error;
  }
}

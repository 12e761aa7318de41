import { decodeJwt } from 'jose';
import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { isGatehouseError } from '../errors.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { hashRefreshToken } from './refresh-token.ts';
import type { ClientInfo } from '../client-info.ts';
import type { SessionRepository } from './session-repository.ts';

export interface RevokeTokenDeps {
  tokens: AccessTokens;
  sessions: SessionRepository;
  clock: Clock;
  audit: AuditLog;
}

export type TokenTypeHint = 'access_token' | 'refresh_token';

// Far above any token Gatehouse issues (a JWT of ~400 bytes, a refresh token of 43): a longer
// one is nobody's, and is neither decoded nor hashed.
const MAX_TOKEN_LENGTH = 4096;

/**
 * The session of an access token whose signature verifies: valid, or expired (ending the
 * session of a genuine expired token is harmless and useful). Anything else: undefined.
 */
async function accessTokenSession(
  deps: RevokeTokenDeps,
  token: string,
): Promise<{ sessionId: string; userId: number } | undefined> {
  try {
    const claims = await deps.tokens.verify(token);
    return { sessionId: claims.sessionId, userId: claims.userId };
  } catch (error) {
    // AccessTokens.verify: `token_expired` only after the signature, issuer and audience were
    // checked (jose verifies the signature before the claims), so its claims are ours to read.
    // A forged or foreign token is `invalid_token` and ends nothing.
    if (!isGatehouseError(error, 'token_expired')) return undefined;
    const { sid, sub } = decodeJwt(token);
    const userId = Number(sub);
    if (typeof sid !== 'string' || !Number.isSafeInteger(userId)) return undefined;
    return { sessionId: sid, userId };
  }
}

async function refreshTokenSession(
  deps: RevokeTokenDeps,
  token: string,
): Promise<{ sessionId: string; userId: number } | undefined> {
  // A used (rotated) refresh token still names its session, and revoking it ends that session:
  // whoever holds it held the session, and presenting it to /token would end the session
  // anyway (reuse detection, RFC 9700 4.14.2). Nothing is marked used here.
  return deps.sessions.findRefreshTokenSession(hashRefreshToken(token));
}

/**
 * RFC 7009 2.1: revokes the token by ending the session it belongs to (Gatehouse's grant):
 * its access tokens fail on their next use on every instance (each request reads the session
 * from the store; nothing caches it) and its refresh tokens stop working. The hint only says
 * which kind to try first; the other kind is tried too (RFC 7009 2.1). Returns whether a
 * session was ended; an unknown, expired, malformed or already revoked token is no error
 * (RFC 7009 2.2), so callers can't learn which tokens exist.
 */
export async function revokeToken(
  deps: RevokeTokenDeps,
  token: string,
  hint: TokenTypeHint | undefined,
  client?: ClientInfo,
): Promise<boolean> {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return false;
  const lookups: Array<[TokenTypeHint, typeof accessTokenSession]> = [
    ['access_token', accessTokenSession],
    ['refresh_token', refreshTokenSession],
  ];
  if (hint === 'refresh_token') lookups.reverse();
  for (const [tokenType, lookup] of lookups) {
    const found = await lookup(deps, token);
    if (!found) continue;
    const ended = await deps.sessions.revoke(
      found.sessionId,
      found.userId,
      deps.clock.now(),
      'revoked',
    );
    // Audited as the logout it is; the holder of the token acted (RFC 7009 needs no login).
    if (ended) {
      await recordAuditEvent(
        deps,
        'session.logout',
        {
          actorId: found.userId,
          subjectId: found.userId,
          details: { session_id: found.sessionId, revoked: tokenType },
        },
        client,
      );
    }
    return ended;
  }
  return false;
}

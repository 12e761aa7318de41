import type { Clock } from '../clock.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { generateRefreshToken, hashRefreshToken } from './refresh-token.ts';
import type { SessionRepository } from './session-repository.ts';

export interface TokenGrant {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** Seconds the refresh token (and the session, unless refreshed) lives. */
  refreshExpiresIn: number;
  scope: string;
  sessionId: string;
  userId: number;
}

export interface IssueTokensDeps {
  sessions: SessionRepository;
  tokens: AccessTokens;
  clock: Clock;
}

/**
 * A new access token and a refresh token for a live session: a new random one unless the
 * caller hands one in (a refresh re-issuing the child of its grace window). Undefined when the
 * session was deleted (with its user) since the caller saw it, for the caller to answer as its
 * grant's failure.
 */
export async function issueTokens(
  deps: IssueTokensDeps,
  grant: { userId: number; sessionId: string; scope: string; refreshExpiresAt: Date },
  refreshToken = generateRefreshToken(),
): Promise<TokenGrant | undefined> {
  const stored = await deps.sessions.addRefreshToken({
    hash: hashRefreshToken(refreshToken),
    sessionId: grant.sessionId,
    createdAt: deps.clock.now(),
    expiresAt: grant.refreshExpiresAt,
  });
  if (!stored) return undefined;
  const access = await deps.tokens.issue(grant);
  return {
    accessToken: access.token,
    refreshToken,
    expiresIn: access.expiresIn,
    refreshExpiresIn: Math.max(
      0,
      Math.floor((grant.refreshExpiresAt.getTime() - deps.clock.now().getTime()) / 1000),
    ),
    scope: grant.scope,
    sessionId: grant.sessionId,
    userId: grant.userId,
  };
}

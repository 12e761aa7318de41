import type { Clock } from '../clock.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { generateRefreshToken, hashRefreshToken } from './refresh-token.ts';
import type { SessionRepository } from './session-repository.ts';
import type { Session } from './session.ts';

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
 * Opens `session` (only over `verifiedHash`: SessionRepository.create) with its first refresh
 * token in one commit, and issues the access token: every grant that creates a session.
 * Undefined when the store refused the session (the account changed since it was read); then
 * nothing is stored.
 */
export async function openSessionWithTokens(
  deps: IssueTokensDeps,
  session: Session,
  verifiedHash: string,
  scope: string,
): Promise<TokenGrant | undefined> {
  const refreshToken = generateRefreshToken();
  const opened = await deps.sessions.create(session, verifiedHash, {
    hash: hashRefreshToken(refreshToken),
    createdAt: deps.clock.now(),
    expiresAt: session.expiresAt,
  });
  if (!opened) return undefined;
  const grant = {
    userId: session.userId,
    sessionId: session.id,
    scope,
    refreshExpiresAt: session.expiresAt,
  };
  return tokenGrant(deps, grant, refreshToken);
}

/**
 * A new access token and a refresh token for a live session: a new random one unless the
 * caller hands one in (a refresh re-issuing the child of its grace window). Undefined when the
 * session was deleted (with its user) since the caller saw it, for the caller to answer as its
 * grant's failure.
 */
export async function issueTokens(
  deps: IssueTokensDeps,
  grant: GrantedSession,
  refreshToken = generateRefreshToken(),
): Promise<TokenGrant | undefined> {
  const stored = await deps.sessions.addRefreshToken({
    hash: hashRefreshToken(refreshToken),
    sessionId: grant.sessionId,
    createdAt: deps.clock.now(),
    expiresAt: grant.refreshExpiresAt,
  });
  if (!stored) return undefined;
  return tokenGrant(deps, grant, refreshToken);
}

interface GrantedSession {
  userId: number;
  sessionId: string;
  scope: string;
  refreshExpiresAt: Date;
}

/** The access token signed, with the stored refresh token, as the grant's answer. */
async function tokenGrant(
  deps: IssueTokensDeps,
  grant: GrantedSession,
  refreshToken: string,
): Promise<TokenGrant> {
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

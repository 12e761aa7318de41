import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import { narrowScope } from '../authz/scopes.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { issueTokens, type TokenGrant } from './issue-tokens.ts';
import {
  generateRefreshToken,
  hashRefreshToken,
  openSealedChild,
  sealChild,
} from './refresh-token.ts';
import type { ClientInfo } from '../client-info.ts';
import type { SessionEndReason } from './session.ts';
import type { SessionRepository } from './session-repository.ts';

export interface RotateRefreshTokenDeps {
  sessions: SessionRepository;
  tokens: AccessTokens;
  clock: Clock;
  audit: AuditLog;
  /** Seconds the session lives after this refresh (sliding expiry). */
  sessionTtlSeconds: number;
  /** Seconds after a rotation in which the parent token may be presented again (0 = strict). */
  reuseGraceSeconds: number;
}

/**
 * What a device whose session ended is told, so a person knows why they must sign in again: why, in
 * plain words, never who or from where. The holder of the token may know that much; the 400
 * `invalid_grant` stays.
 */
const ENDED_BECAUSE: Record<SessionEndReason, string> = {
  signed_out: 'You signed out of this session',
  ended_elsewhere: 'You were signed out because this session was ended from another device',
  password_changed: 'You were signed out because your password was changed',
  admin: 'You were signed out because an administrator changed your account',
  reuse_detected:
    "You were signed out because this session's refresh token was used twice (a possible copy)",
  revoked: "You were signed out because this session's token was revoked",
};

function invalidGrant(reason?: SessionEndReason | null): GatehouseError {
  return new GatehouseError(
    'invalid_grant',
    reason ? ENDED_BECAUSE[reason] : 'Invalid or expired refresh token',
  );
}

/** The failure of a token that no longer refreshes, with why its session ended if it did. */
async function endedSessionGrant(
  deps: RotateRefreshTokenDeps,
  hash: string,
): Promise<GatehouseError> {
  const found = await deps.sessions.findRefreshTokenSession(hash);
  return invalidGrant(found?.endReason);
}

/**
 * RFC 6749 6 with rotation (RFC 9700 4.14.2): each refresh token works once and is replaced.
 * Presenting a used one means it was copied, so the whole session it belongs to is ended
 * (reuse detection) — unless it comes within the configured grace window after its rotation,
 * which is how several tabs refreshing at once are told apart from a replay. Inside the window
 * the parent gets the very child its rotation issued, never a second one: the session stays
 * one chain, so whichever holder falls behind it later is still caught as reuse.
 */
export async function rotateRefreshToken(
  deps: RotateRefreshTokenDeps,
  refreshToken: string,
  client?: ClientInfo,
): Promise<TokenGrant> {
  const now = deps.clock.now();
  const graceOn = deps.reuseGraceSeconds > 0;
  const child = generateRefreshToken();
  // Sealed under the parent so that only a re-presentation of the parent can get it back;
  // in strict mode nothing is re-issued, so nothing is stored.
  const hash = hashRefreshToken(refreshToken);
  const result = await deps.sessions.consumeRefreshToken(
    hash,
    now,
    graceOn ? sealChild(child, refreshToken) : undefined,
  );
  if (result.outcome === 'unknown') throw await endedSessionGrant(deps, hash);
  let issued = child;
  if (result.outcome === 'already_used') {
    const sinceRotation = (now.getTime() - result.usedAt.getTime()) / 1000;
    const sibling =
      graceOn && sinceRotation <= deps.reuseGraceSeconds && result.sealedChild !== null
        ? openSealedChild(result.sealedChild, refreshToken)
        : undefined;
    // RFC 9700 4.14.2: outside the window, or when the child can't be re-issued (rotated in
    // strict mode, erased), the strict rule applies; a second, independent child never exists.
    if (sibling === undefined) {
      await deps.sessions.revoke(result.sessionId, result.userId, now, 'reuse_detected');
      // Recorded before the grant fails: whoever replayed it is not known, so no actor.
      await recordAuditEvent(
        deps,
        'token.reuse_detected',
        { subjectId: result.userId, details: { session_id: result.sessionId } },
        client,
      );
      throw new GatehouseError(
        'refresh_token_reused',
        'Refresh token was already used; the session has been ended',
      );
    }
    issued = sibling;
  }
  // The session (and its user) must be live: logout, disabling and expiry all end refreshes.
  // A consumed token proved that in the consuming statement itself; a sibling presented
  // within the grace window checks it now.
  const session =
    result.outcome === 'consumed'
      ? result.session
      : await deps.sessions.findActive(result.sessionId, result.userId, now);
  if (!session) throw await endedSessionGrant(deps, hash);
  const expiresAt = new Date(now.getTime() + deps.sessionTtlSeconds * 1000);
  await deps.sessions.touch(result.sessionId, now, expiresAt);
  const grant = await issueTokens(
    deps,
    {
      userId: result.userId,
      sessionId: result.sessionId,
      scope: narrowScope(session.scope, session.user.role),
      refreshExpiresAt: expiresAt,
    },
    issued,
  );
  if (!grant) throw invalidGrant();
  await recordAuditEvent(
    deps,
    'token.refreshed',
    {
      actorId: result.userId,
      subjectId: result.userId,
      email: session.user.email,
      details: {
        session_id: result.sessionId,
        ...(result.outcome === 'already_used' ? { reissued_in_grace: true } : {}),
      },
    },
    client,
  );
  return grant;
}

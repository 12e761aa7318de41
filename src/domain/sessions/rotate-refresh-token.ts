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
  const expiresAt = new Date(now.getTime() + deps.sessionTtlSeconds * 1000);
  // The signing-key check may fail (store_unavailable): it runs before anything is written, so
  // that failure leaves the presented token as it was; what remains after the commit (signing)
  // can't fail.
  const sign = await deps.tokens.prepareIssue();
  // Consume, successor and sliding expiry commit together or not at all: a failure part-way
  // must not spend the presented token without handing out its successor, or the client's
  // retry would be taken for reuse (RFC 9700 4.14.2) and end a session nobody stole.
  const result = await deps.sessions.rotateRefreshToken(
    hash,
    now,
    { hash: hashRefreshToken(child), createdAt: now, expiresAt },
    expiresAt,
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
  let grant: TokenGrant | undefined;
  let email: string;
  if (result.outcome === 'consumed') {
    // The consuming statement proved the session and its user live, and the successor is
    // stored: only signing (which doesn't fail) is left.
    const scope = narrowScope(result.session.scope, result.session.user.role);
    const access = sign({ userId: result.userId, sessionId: result.sessionId, scope });
    email = result.session.user.email;
    grant = {
      accessToken: access.token,
      refreshToken: child,
      expiresIn: access.expiresIn,
      refreshExpiresIn: deps.sessionTtlSeconds,
      scope,
      sessionId: result.sessionId,
      userId: result.userId,
    };
  } else {
    // A sibling presented within the grace window: the session (and its user) must still be
    // live (logout, disabling and expiry all end refreshes). Every step here may be repeated:
    // adding the one child is idempotent, so a failure leaves the parent's retry the same child.
    const session = await deps.sessions.findActive(result.sessionId, result.userId, now);
    if (!session) throw await endedSessionGrant(deps, hash);
    await deps.sessions.touch(result.sessionId, now, expiresAt);
    email = session.user.email;
    grant = await issueTokens(
      deps,
      {
        userId: result.userId,
        sessionId: result.sessionId,
        scope: narrowScope(session.scope, session.user.role),
        refreshExpiresAt: expiresAt,
      },
      issued,
    );
  }
  if (!grant) throw invalidGrant();
  // After the rotation's commit, not inside it: appends serialize on the audit chain's head
  // row (audit-log.ts), and inside, every refresh would wait for it holding its session's lock
  // and then hold the head until its commit. The price: a store failure exactly here (a 503)
  // comes after the token was spent, the one window left in which a retry is taken for reuse.
  await recordAuditEvent(
    deps,
    'token.refreshed',
    {
      actorId: result.userId,
      subjectId: result.userId,
      email,
      details: {
        session_id: result.sessionId,
        ...(result.outcome === 'already_used' ? { reissued_in_grace: true } : {}),
      },
    },
    client,
  );
  return grant;
}

import type { User } from '../accounts/user.ts';
import type { Session, SessionEndReason } from './session.ts';

export interface ActiveSession {
  user: User;
  lastUsedAt: Date;
  scope: string;
}

export interface NewRefreshToken {
  /** SHA-256 of the token, hex; the token itself is never stored (API.md 2). */
  hash: string;
  sessionId: string;
  createdAt: Date;
  expiresAt: Date;
}

export type ConsumeResult =
  /**
   * This caller marked the token used while its session and user were live: it may rotate.
   * `session` is as it was at that moment, even if another caller ends it right after.
   */
  | { outcome: 'consumed'; sessionId: string; userId: number; session: ActiveSession }
  /**
   * The token was used before, at `usedAt`: a replay, or a concurrent tab inside the grace
   * window. `sealedChild` is what the caller that consumed it stored (null when none or erased).
   */
  | {
      outcome: 'already_used';
      sessionId: string;
      userId: number;
      usedAt: Date;
      sealedChild: string | null;
    }
  /** No such token, or it expired. */
  | { outcome: 'unknown' };

/** Storage port for login sessions and their refresh tokens (test/contract checks both stores). */
export interface SessionRepository {
  /**
   * Opens `session` only while its user exists, is enabled and still has `verifiedHash` as
   * password hash (the one the login just checked); false otherwise, and nothing is stored.
   * Of concurrent callers and a password change (`UserRepository.updatePasswordHash`, then
   * `revokeAllForUser` once it returned), each session is either stored before the new hash
   * is, so that the change's revocation ends it, or refused: no session opened with the old
   * password outlives the change, however the two interleave (ASVS 3.3.3). On Postgres the
   * statement locks the user row FOR SHARE, which conflicts with the UPDATE of the hash: an
   * insert that locked first is committed before the UPDATE may run, and one that waited
   * re-checks the updated row (READ COMMITTED) and inserts nothing; the lock also keeps the
   * user from being deleted or disabled under the insert. SQLite runs one write at a time.
   *
   * Stores `firstRefreshToken` for the session in the same transaction: one commit (one
   * fsync) per login, and either both rows are stored or neither. A session is never opened
   * without one (every grant hands a refresh token out with it). A hash already stored fails
   * the whole call (it would hand out another session's token), with nothing stored.
   */
  create(
    session: Session,
    verifiedHash: string,
    firstRefreshToken: Omit<NewRefreshToken, 'sessionId'>,
  ): Promise<boolean>;

  /**
   * The session's user when the session exists, belongs to `userId`, is neither revoked nor
   * expired at `now`, and the user is not disabled; otherwise undefined. One indexed read:
   * this runs on every authenticated request (API.md 2: logout takes effect at once).
   */
  findActive(sessionId: string, userId: number, now: Date): Promise<ActiveSession | undefined>;

  /** Records use of a live session: last_used_at = now and, when given, a new expiry. */
  touch(sessionId: string, now: Date, expiresAt?: Date): Promise<void>;

  /** The user's sessions that are neither revoked nor expired at `now`, newest first. */
  listActive(userId: number, now: Date): Promise<Session[]>;

  /**
   * Ends one session of `userId` if it is still active, recording `reason`. False when there is
   * none (unknown id, another user's session, already ended): callers answer 404 without
   * revealing which. An ended session keeps its first reason.
   */
  revoke(sessionId: string, userId: number, now: Date, reason: SessionEndReason): Promise<boolean>;

  /**
   * Ends every active session of the user except `exceptSessionId`, recording `reason`;
   * returns how many.
   */
  revokeAllForUser(
    userId: number,
    now: Date,
    reason: SessionEndReason,
    exceptSessionId?: string,
  ): Promise<number>;

  /**
   * Stores a refresh token. Idempotent: adding a hash that is already stored changes nothing
   * (not even its `used_at`), so every presenter of a parent inside the grace window may add
   * the one child, in any order, concurrently, and the first write stands. False when the
   * session no longer exists (deleted with its user, or purged, since the caller saw it), and
   * nothing is stored.
   */
  addRefreshToken(token: NewRefreshToken): Promise<boolean>;

  /**
   * A refresh's whole write, in one transaction. It marks the refresh token with this hash
   * used and stores `sealedChild` with it, only while its session is active and its user
   * enabled: of concurrent callers presenting the same token exactly one gets `consumed`, the
   * others `already_used` with the winner's `sealedChild` (never their own), and only the
   * winner's successor is stored. An expired token, or one whose session has ended, is
   * `unknown`. Only when this caller gets `consumed` does it store `successor` (its `sessionId`
   * is ignored: the consumed token's session is used) and touch that session (last_used_at =
   * now, expires_at = `sessionExpiresAt`). Either all of it commits or none: a failure
   * part-way leaves the presented token unused, so the client's retry rotates it instead of
   * being taken for reuse. Against a concurrent deletion of the session (or its user) it never
   * deadlocks and never fails: it either commits first, or waits for the deletion and answers
   * `unknown` with nothing written.
   */
  rotateRefreshToken(
    hash: string,
    now: Date,
    successor: Omit<NewRefreshToken, 'sessionId'>,
    sessionExpiresAt: Date,
    sealedChild?: string,
  ): Promise<ConsumeResult>;

  /**
   * The session a stored refresh token belongs to, whether the token is fresh, used (rotated)
   * or expired, and whatever the session's state; undefined when no token has this hash (or it
   * was purged). A read only: it marks nothing used (RFC 7009 revocation, not a refresh).
   * `endReason` is why the session was revoked; null while it lives, when it merely expired,
   * or when it ended before reasons were kept.
   */
  findRefreshTokenSession(
    hash: string,
  ): Promise<{ sessionId: string; userId: number; endReason: SessionEndReason | null } | undefined>;

  /**
   * Erases the sealed child of every token used before `usedBefore` (its grace window is over),
   * so a copy of the store holds none that could still be opened with an old token. Returns
   * how many were erased. `used_at` stays: reuse of those tokens is still detected.
   */
  eraseSealedChildren(usedBefore: Date): Promise<number>;

  /**
   * Deletes sessions that expired, or were revoked more than `revokedRetentionSeconds` ago,
   * with their refresh tokens, and expired refresh tokens of live sessions, so the tables don't
   * grow without bound. Returns sessions deleted.
   */
  purgeEnded(now: Date, revokedRetentionSeconds: number): Promise<number>;
}

import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Session } from './session.ts';
import type { SessionRepository } from './session-repository.ts';

export interface EndSessionsDeps {
  sessions: SessionRepository;
  clock: Clock;
}

/**
 * Ends one of the user's sessions: its access tokens fail on their next use (every request
 * reads the session) and its refresh tokens stop working. Another user's session, an unknown
 * one and an already ended one are all `not_found`, so ids of others reveal nothing.
 */
export async function endSession(
  deps: EndSessionsDeps,
  userId: number,
  sessionId: string,
): Promise<void> {
  if (!(await deps.sessions.revoke(sessionId, userId, deps.clock.now()))) {
    throw new GatehouseError('not_found', 'Session not found');
  }
}

/** Ends every session of the user (POST /logout/all), or all but one (password change). */
export async function endAllSessions(
  deps: EndSessionsDeps,
  userId: number,
  exceptSessionId?: string,
): Promise<number> {
  return deps.sessions.revokeAllForUser(userId, deps.clock.now(), exceptSessionId);
}

export function listSessions(deps: EndSessionsDeps, userId: number): Promise<Session[]> {
  return deps.sessions.listActive(userId, deps.clock.now());
}

// Revoked sessions are kept a day, then purged with expired ones (their refresh tokens too).
const REVOKED_RETENTION_SECONDS = 86_400;

export function purgeEndedSessions(deps: EndSessionsDeps): Promise<number> {
  return deps.sessions.purgeEnded(deps.clock.now(), REVOKED_RETENTION_SECONDS);
}

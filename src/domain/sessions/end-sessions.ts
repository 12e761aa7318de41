import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { ClientInfo } from '../client-info.ts';
import type { Session } from './session.ts';
import type { SessionRepository } from './session-repository.ts';

export interface EndSessionsDeps {
  sessions: SessionRepository;
  clock: Clock;
}

/** Ending sessions on the user's request is a logout, and is audited. */
export interface LogoutDeps extends EndSessionsDeps {
  audit: AuditLog;
}

/**
 * Ends one of the user's sessions: its access tokens fail on their next use (every request
 * reads the session) and its refresh tokens stop working. Another user's session, an unknown
 * one and an already ended one are all `not_found`, so ids of others reveal nothing.
 * `callerSessionId` is the session asking: ending itself is a sign-out, ending another is
 * recorded as ended from another device (the reason its device is told).
 */
export async function endSession(
  deps: LogoutDeps,
  userId: number,
  sessionId: string,
  client?: ClientInfo,
  callerSessionId?: string,
): Promise<void> {
  const reason = callerSessionId === sessionId ? 'signed_out' : 'ended_elsewhere';
  if (!(await deps.sessions.revoke(sessionId, userId, deps.clock.now(), reason))) {
    throw new GatehouseError('not_found', 'Session not found');
  }
  await recordAuditEvent(
    deps,
    'session.logout',
    { actorId: userId, subjectId: userId, details: { session_id: sessionId } },
    client,
  );
}

/**
 * Ends every session of the user (POST /logout/all), or every one but `exceptSessionId`, the
 * caller's (POST /logout/others: ASVS 5.0 7.4.3 offers it after a second factor changes).
 * Returns how many ended; each of their devices is told it was ended from another one.
 */
export async function endAllSessions(
  deps: LogoutDeps,
  userId: number,
  exceptSessionId?: string,
  client?: ClientInfo,
): Promise<number> {
  const ended = await deps.sessions.revokeAllForUser(
    userId,
    deps.clock.now(),
    'ended_elsewhere',
    exceptSessionId,
  );
  await recordAuditEvent(
    deps,
    'session.logout',
    {
      actorId: userId,
      subjectId: userId,
      // The entry tells "all but mine" from "all": the first leaves the caller signed in.
      details:
        exceptSessionId === undefined
          ? { all: true, ended }
          : { all: true, except_current: true, ended },
    },
    client,
  );
  return ended;
}

export function listSessions(deps: EndSessionsDeps, userId: number): Promise<Session[]> {
  return deps.sessions.listActive(userId, deps.clock.now());
}

// Revoked sessions are kept a day, then purged with expired ones (their refresh tokens too).
const REVOKED_RETENTION_SECONDS = 86_400;

export async function purgeEndedSessions(
  deps: EndSessionsDeps & { reuseGraceSeconds: number },
): Promise<number> {
  const now = deps.clock.now();
  // A sealed child only serves its parent's grace window; past it, a copy of the store should
  // hold nothing an old stolen token could open (docs/sessions.md).
  await deps.sessions.eraseSealedChildren(new Date(now.getTime() - deps.reuseGraceSeconds * 1000));
  return deps.sessions.purgeEnded(now, REVOKED_RETENTION_SECONDS);
}

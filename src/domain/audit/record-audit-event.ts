import type { Clock } from '../clock.ts';
import type { ClientInfo } from '../client-info.ts';
import type { AuditDetails, AuditEventType, AuditLog } from './audit-log.ts';

export interface AuditDeps {
  audit: AuditLog;
  clock: Clock;
}

// Bounds what a client can make us store: RFC 5321 paths are at most 254 octets.
const MAX_EMAIL_LENGTH = 320;

/** Records one audit event at the clock's `now`; fields not given are null. */
export function recordAuditEvent(
  deps: AuditDeps,
  type: AuditEventType,
  fields: {
    actorId?: number | null;
    subjectId?: number | null;
    email?: string | null;
    details?: AuditDetails;
  },
  client: ClientInfo | undefined,
): Promise<void> {
  return deps.audit.record({
    type,
    createdAt: deps.clock.now(),
    actorId: fields.actorId ?? null,
    subjectId: fields.subjectId ?? null,
    email: fields.email == null ? null : fields.email.slice(0, MAX_EMAIL_LENGTH),
    ip: client?.ip ?? null,
    userAgent: client?.userAgent ?? null,
    details: fields.details ?? null,
  });
}

/**
 * Records an event a user causes on their own account (sign-in, MFA, verification): the user
 * is both actor and subject.
 */
export function recordOwnAuditEvent(
  deps: AuditDeps,
  type: AuditEventType,
  user: { id: number; email: string },
  client: ClientInfo | undefined,
  details?: AuditDetails,
): Promise<void> {
  return recordAuditEvent(
    deps,
    type,
    { actorId: user.id, subjectId: user.id, email: user.email, details },
    client,
  );
}

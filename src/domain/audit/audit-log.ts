/**
 * The audit log (API.md 3): who did what to which account, when and from where. Entries are
 * append-only and outlive the accounts they name (a deleted user's history stays).
 */
export const AUDIT_EVENT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'token.refreshed',
  'token.reuse_detected',
  'session.logout',
  'password.changed',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'user.deleted',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Small structured facts about an event, e.g. `{ from: 'admin', to: 'user' }` for a role change. */
export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface AuditEvent {
  type: AuditEventType;
  createdAt: Date;
  /** The user who acted; null when unknown (a failed login, a replayed token) or for the CLI. */
  actorId: number | null;
  /** The account the event is about; null for a failed login with an unknown email. */
  subjectId: number | null;
  /** The subject's email, or for a failed login the email tried (never the password). */
  email: string | null;
  ip: string | null;
  userAgent: string | null;
  details: AuditDetails | null;
}

export interface AuditEntry extends Omit<AuditEvent, 'type'> {
  id: number;
  /** An AuditEventType, or a type a newer version of Gatehouse recorded (rolling upgrades). */
  type: string;
}

export interface AuditFilters {
  /** Entries where this user is the subject or the actor. */
  userId?: number;
  type?: AuditEventType;
  /** created_at >= since */
  since?: Date;
  /** created_at < until */
  until?: Date;
}

/** Storage port of the audit log (test/contract/audit-repository.contract.ts checks each store). */
export interface AuditLog {
  /** Appends one entry. Concurrent calls never lose or merge entries. */
  record(event: AuditEvent): Promise<void>;

  /**
   * Entries matching every given filter, newest first (the order they were recorded: `id`
   * descending), at most `limit`, only those with an id below `beforeId` when given. Keyset
   * pagination: entries recorded while a client pages never shift or repeat a page.
   */
  list(filters: AuditFilters, page: { limit: number; beforeId?: number }): Promise<AuditEntry[]>;
}

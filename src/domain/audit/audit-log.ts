import type { StoredAuditContent } from './audit-chain.ts';

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
  'client.created',
  'client.deleted',
  // API.md 8: every step of the mail flows.
  'email.verification_requested',
  'email.verified',
  'email.change_requested',
  'email.changed',
  'password.reset_requested',
  'password.reset',
  // API.md 9: second factors.
  'mfa.required', // a password grant proved the password and asked for the second factor
  'mfa.totp_started',
  'mfa.totp_enabled',
  'mfa.totp_disabled',
  'mfa.succeeded', // the mfa-otp grant opened a session (details.method: totp | recovery_code)
  'mfa.failed',
  'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerated',
  'mfa.reset', // an admin reset a user's second factors
  // API.md 9: passkeys enrolled and removed (their use is login.succeeded / login.failed).
  'passkey.registered',
  'passkey.deleted',
  // API.md 10: one entry per `gatehouse import` that wrote users.
  'users.imported',
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
  /** The actor's email as the account holds it now; null with no actor or once it is deleted. */
  actorEmail: string | null;
  /** The subject's email as the account holds it now; null once it is deleted. */
  subjectEmail: string | null;
}

export interface AuditFilters {
  /** Entries where this user is the subject or the actor. */
  userId?: number;
  /**
   * Entries where the account holding this email now is the subject or the actor, or whose
   * recorded `email` is this one in any letter case (a failed login with it, a deleted
   * account's history). An email nobody holds matches only the latter: an empty list at worst.
   */
  userEmail?: string;
  type?: AuditEventType;
  /** created_at >= since */
  since?: Date;
  /** created_at < until */
  until?: Date;
}

/** A chained entry as stored (audit-chain.ts), for `verifyAuditChain`. */
export interface AuditChainLink {
  id: number;
  seq: number;
  prevHash: string;
  hash: string;
  content: StoredAuditContent;
}

/** Where the chain starts and ends, as the store records it. */
export interface AuditChainState {
  /**
   * The chain continues after this entry: seq 0 and the genesis hash at first; a pruned prefix
   * moves it to the last pruned entry (its seq and hash are the recorded checkpoint).
   */
  anchorSeq: number;
  anchorHash: string;
  /** The newest entry appended (seq 0 and the anchor's hash while the chain is empty). */
  headSeq: number;
  headHash: string;
  /** Entries with an id up to this one were recorded before the chain began (migration 0007). */
  legacyMaxId: number;
}

/** Storage port of the audit log (test/contract/audit-repository.contract.ts checks each store). */
export interface AuditLog {
  /**
   * Appends one entry at the head of the chain (audit-chain.ts): the next `seq`, linked to the
   * head's hash, the head moved to it, atomically. Concurrent calls, from any number of
   * instances on one store, never lose or merge entries and form one chain, in the order the
   * calls were made within an instance: they serialize on the chain's head row. The entries of
   * concurrent calls may share one commit (one flush to disk); a call resolves once its entry
   * is committed, and when a shared commit fails, every call in it rejects and none of its
   * entries is stored.
   */
  record(event: AuditEvent): Promise<void>;

  /** Undefined only when the head row was deleted past Gatehouse. */
  chainState(): Promise<AuditChainState | undefined>;

  /** Chained entries with a seq above `afterSeq`, by seq ascending, at most `limit`. */
  chainLinks(afterSeq: number, limit: number): Promise<AuditChainLink[]>;

  /**
   * Entries outside the chain: how many were recorded before it began (id up to
   * `legacyMaxId`), and the lowest id of any other one (which Gatehouse never writes).
   */
  unchainedEntries(legacyMaxId: number): Promise<{ legacy: number; strayId: number | undefined }>;

  /**
   * Entries matching every given filter, newest first (the order they were recorded: `id`
   * descending), at most `limit`, only those with an id below `beforeId` when given. Keyset
   * pagination: entries recorded while a client pages never shift or repeat a page.
   */
  list(filters: AuditFilters, page: { limit: number; beforeId?: number }): Promise<AuditEntry[]>;
}

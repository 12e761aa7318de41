import type { MailKind, OutgoingMail } from './outgoing-mail.ts';

/**
 * queued: waiting for its next attempt; sending: claimed by a sender (under a lease);
 * sent: the SMTP server accepted it; failed: given up after the maximum age;
 * logged: development without SMTP wrote it to the log instead (API.md 8).
 */
export const MAIL_STATUSES = ['queued', 'sending', 'sent', 'failed', 'logged'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

/** A row of the outbox. Bodies are null once the message is sent or failed (they may hold tokens). */
export interface OutboxMessage {
  readonly id: number;
  readonly to: string;
  readonly subject: string;
  readonly text: string | null;
  readonly html: string | null;
  readonly kind: MailKind;
  readonly status: MailStatus;
  /** Delivery attempts begun (each claim counts one). */
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  /** Why the last attempt failed (the SMTP reply or a network error); never a secret. */
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
}

/** A message claimed for delivery: this sender holds it until `claimedUntil`. */
export interface ClaimedMail extends OutboxMessage {
  readonly text: string;
  readonly html: string;
  readonly claimToken: string;
  readonly claimedUntil: Date;
}

export interface OutboxFilter {
  /** Recipient address, compared case-insensitively. */
  to?: string;
  status?: MailStatus;
  limit: number;
}

/**
 * The outbox port (API.md 8). Writers enqueue; the background sender claims, delivers and
 * records the outcome. To enqueue in the same transaction as another change, storage code
 * calls `enqueueMail(trx, mail, now)` (storage/sql/enqueue-mail.ts) with its transaction.
 *
 * Durability: an enqueued message survives a power loss like any other commit. The sender's
 * writes (`claimBatch` and the `mark*` outcomes) may not (SQLite commits them without an
 * fsync); each only moves a message on, so losing one puts it back where it was: claimed
 * again, and sent again if it had been sent (at least once, under the same Message-ID).
 */
export interface MailOutbox {
  /** Stores a message as `queued`, due at `now`; returns its id. */
  enqueue(mail: OutgoingMail, now: Date): Promise<number>;
  /**
   * Claims up to `limit` due messages (queued and due, or `sending` with an expired lease) for
   * `leaseMs`, counting one attempt each. Concurrent callers, in this process or another
   * instance on the same store, never get the same message while its lease holds: Postgres
   * claims with `FOR UPDATE SKIP LOCKED`, SQLite with one conditional UPDATE under its single
   * writer lock.
   */
  claimBatch(claim: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedMail[]>;
  /**
   * Marks a claimed message sent and clears its bodies. False when the claim is no longer
   * this one's (the lease expired and another sender claimed it), so nothing changed.
   */
  markSent(claim: ClaimedMail, now: Date): Promise<boolean>;
  /** Puts a claimed message back in the queue until `nextAttemptAt`, recording why. */
  markRetry(claim: ClaimedMail, retry: { nextAttemptAt: Date; error: string }): Promise<boolean>;
  /** Gives up on a claimed message for good, recording why, and clears its bodies. */
  markFailed(claim: ClaimedMail, failure: { now: Date; error: string }): Promise<boolean>;
  /** Development without SMTP: the message went to the log; it stays listed with its bodies. */
  markLogged(claim: ClaimedMail, now: Date): Promise<boolean>;
  /** Newest first, for `gatehouse mail list`. */
  list(filter: OutboxFilter): Promise<OutboxMessage[]>;
  get(id: number): Promise<OutboxMessage | undefined>;
  /** How many messages are in each status (for /metrics). */
  countByStatus(): Promise<Record<MailStatus, number>>;
  /** Deletes sent, failed and logged messages created before `before`; returns how many. */
  purgeFinished(before: Date): Promise<number>;
}

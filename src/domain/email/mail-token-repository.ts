import type { User } from '../accounts/user.ts';
import type { OutgoingMail } from '../mail/outgoing-mail.ts';
import type { MailTokenPurpose } from './mail-token.ts';

export interface NewMailToken {
  /** SHA-256 (hex) of the token; the token itself is never stored (API.md 8). */
  hash: string;
  userId: number;
  purpose: MailTokenPurpose;
  /** The address the link goes to: the user's own, or the new one for an email change. */
  email: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface LiveMailToken {
  userId: number;
  purpose: MailTokenPurpose;
  email: string;
  expiresAt: Date;
}

export type EmailChangeResult =
  | { outcome: 'changed'; before: User; after: User }
  /** Unknown, used, expired or voided token; nothing changed. */
  | { outcome: 'invalid' };

/**
 * Storage port of single-use mail tokens (verification, password reset, email change) and of
 * the changes they authorise. Every method that consumes a token marks it used with one
 * conditional UPDATE inside the transaction that applies its change: of concurrent callers
 * presenting one token exactly one gets the change, and a change that fails (a taken address)
 * leaves the token unused. test/contract/mail-token-repository.contract.ts checks each store.
 */
export interface MailTokenRepository {
  /**
   * In one transaction: voids every other token of the user for `token.purpose` (a newer link
   * voids older ones), stores this one and queues `mail` in the outbox. False when the user no
   * longer exists, and nothing is stored or queued. Concurrent issues for one user and purpose
   * serialize on the user's row: exactly one token stays live, the last committed.
   */
  issue(token: NewMailToken, mail: readonly OutgoingMail[]): Promise<boolean>;

  /** The token with this hash and purpose when it is unused and unexpired at `now`. */
  findLive(hash: string, purpose: MailTokenPurpose, now: Date): Promise<LiveMailToken | undefined>;

  /**
   * Consumes a `verify_email` token and marks its user's address verified, only while the
   * user's address is still the one the link went to. The verified user, or undefined (nothing
   * changed) for an unknown, used, expired or stale token.
   */
  confirmVerification(hash: string, now: Date): Promise<User | undefined>;

  /**
   * Consumes a `password_reset` token (while the user's address is still the one it went to),
   * stores `passwordHash`, ends every session of the user and queues `mail`, in one
   * transaction. The user, or undefined (nothing changed). As with a password change
   * (SessionRepository.create), a login that verified the old hash either committed its session
   * before the new hash, and is ended here, or is refused: on Postgres the UPDATE of the hash
   * waits for (or blocks) the login's FOR SHARE lock on the user row.
   */
  resetPassword(
    hash: string,
    passwordHash: string,
    now: Date,
    mail: readonly OutgoingMail[],
  ): Promise<User | undefined>;

  /**
   * Consumes an `email_change` token, moves the user to the address it was sent to and marks
   * that address verified. The address is unique again at this moment (the unique index
   * decides): taken → GatehouseError `email_taken`, and the token stays unused.
   */
  changeEmail(hash: string, now: Date): Promise<EmailChangeResult>;

  /**
   * Voids every unused token of the user for `purpose` (marks it used at `now`), in one UPDATE;
   * returns how many. A password change voids pending reset links with it (OWASP Forgot
   * Password Cheat Sheet: a reset token must not outlive the password it would replace).
   */
  voidUnused(userId: number, purpose: MailTokenPurpose, now: Date): Promise<number>;

  /** Deletes tokens that expired or were used before `before`; returns how many. */
  purge(before: Date): Promise<number>;
}

import type { Role, UserWithHash } from './user.ts';

/** One account to import (API.md 10), already checked: a valid email and an accepted hash. */
export interface ImportedUser {
  email: string;
  passwordHash: string;
  role: Role;
  disabled: boolean;
  emailVerified: boolean;
  createdAt: Date;
}

/**
 * Storage port for `gatehouse import` and `export` (API.md 10); SQLite and Postgres both
 * implement it (test/contract).
 */
export interface UserTransferRepository {
  /** Which of these normalised emails belong to an existing account. */
  existingEmails(normalizedEmails: readonly string[]): Promise<Set<string>>;
  /**
   * Inserts `users` in one transaction and one statement, skipping any whose normalised email
   * is already taken (ON CONFLICT DO NOTHING), so re-running a batch changes nothing; returns
   * how many were inserted. A disabled user is stamped disabled at `now`.
   */
  insertBatch(users: readonly ImportedUser[], now: Date): Promise<number>;
  /** Every user with their hash, in order of id, read `pageSize` at a time (memory stays flat). */
  exportAll(pageSize: number): AsyncIterable<UserWithHash>;
}

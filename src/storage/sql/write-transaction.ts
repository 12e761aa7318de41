import { sql, type Kysely } from 'kysely';
import type { OutgoingMail } from '../../domain/mail/outgoing-mail.ts';
import type { Database } from './database.ts';
import { dialectOf } from './dialect.ts';
import { isTransactionConflict } from './driver-errors.ts';
import { enqueueMail } from './enqueue-mail.ts';

/**
 * Queues `mail` in the outbox inside the caller's transaction (`trx`), so the messages are
 * stored exactly when the change they report commits (API.md 8: a transactional outbox).
 */
export async function queueMail(
  trx: Kysely<Database>,
  mail: readonly OutgoingMail[],
  now: Date,
): Promise<void> {
  for (const message of mail) await enqueueMail(trx, message, now);
}

/**
 * Runs `work` in one write transaction. Postgres: a plain transaction (READ COMMITTED); the
 * work takes the row locks it needs. SQLite: BEGIN IMMEDIATE takes the write lock before the
 * first read, so no other writer (another request, or the CLI beside the server) interleaves.
 */
export function inWriteTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialectOf(db) === 'postgres') return db.transaction().execute(work);
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      // The original error matters; a failing rollback means there was nothing to undo.
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * `inWriteTransaction`, run again when Postgres aborts it as a deadlock's victim or for a
 * serialization failure (driver-errors.ts), up to `attempts` runs in all; the last failure is
 * thrown. A transaction that takes its locks in the one order of the schema (users, sessions,
 * refresh_tokens) shouldn't meet either: this is the bound for a conflict not foreseen, so that
 * it costs a retry rather than a 500. `work` must be safe to run again: everything it did
 * was rolled back, but nothing outside the store is.
 */
export async function inRetriedWriteTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await inWriteTransaction(db, work);
    } catch (error) {
      if (attempt >= attempts || !isTransactionConflict(error)) throw error;
    }
  }
}

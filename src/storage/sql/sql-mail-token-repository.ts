import { sql, type Kysely } from 'kysely';
import { normalizeEmail } from '../../domain/email-address.ts';
import type { User } from '../../domain/accounts/user.ts';
import type { OutgoingMail } from '../../domain/mail/outgoing-mail.ts';
import { MAIL_TOKEN_PURPOSES, type MailTokenPurpose } from '../../domain/email/mail-token.ts';
import type {
  EmailChangeResult,
  LiveMailToken,
  MailTokenRepository,
  NewMailToken,
} from '../../domain/email/mail-token-repository.ts';
import { GatehouseError } from '../../domain/errors.ts';
import type { Database } from './database.ts';
import { toDate, toDbTime } from './db-time.ts';
import { dialectOf } from './dialect.ts';
import { isUniqueViolation } from './driver-errors.ts';
import { toUser, USER_COLUMNS } from './user-rows.ts';
import { inWriteTransaction, queueMail } from './write-transaction.ts';

// TRUE in both stores (SQLite stores 1); better-sqlite3 can't bind a JS boolean.
const VERIFIED = sql<boolean>`true`;

const toPurpose = (value: string): MailTokenPurpose =>
  (MAIL_TOKEN_PURPOSES as readonly string[]).includes(value)
    ? (value as MailTokenPurpose)
    : 'verify_email';

export class SqlMailTokenRepository implements MailTokenRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  issue(token: NewMailToken, mail: readonly OutgoingMail[]): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      // Serializes issues for one user (Postgres; SQLite's BEGIN IMMEDIATE already has), so
      // "void the older, store the newer" can't leave two live tokens. NO KEY UPDATE: the user's
      // logins (FOR SHARE) wait only for this short transaction.
      let lock = trx.selectFrom('users').select('id').where('id', '=', token.userId);
      if (dialectOf(this.#db) === 'postgres') lock = lock.forNoKeyUpdate();
      if (!(await lock.executeTakeFirst())) return false;
      await trx
        .deleteFrom('email_tokens')
        .where('user_id', '=', token.userId)
        .where('purpose', '=', token.purpose)
        .execute();
      await trx
        .insertInto('email_tokens')
        .values({
          token_hash: token.hash,
          user_id: token.userId,
          purpose: token.purpose,
          email: token.email,
          created_at: toDbTime(token.createdAt),
          expires_at: toDbTime(token.expiresAt),
          used_at: null,
        })
        .execute();
      await queueMail(trx, mail, token.createdAt);
      return true;
    });
  }

  async findLive(
    hash: string,
    purpose: MailTokenPurpose,
    now: Date,
  ): Promise<LiveMailToken | undefined> {
    const row = await this.#db
      .selectFrom('email_tokens')
      .select(['user_id', 'purpose', 'email', 'expires_at'])
      .where('token_hash', '=', hash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .executeTakeFirst();
    return (
      row && {
        userId: Number(row.user_id),
        purpose: toPurpose(row.purpose),
        email: row.email,
        expiresAt: toDate(row.expires_at),
      }
    );
  }

  confirmVerification(hash: string, now: Date): Promise<User | undefined> {
    return inWriteTransaction(this.#db, async (trx) => {
      const token = await consume(trx, hash, 'verify_email', now);
      if (!token) return undefined;
      const row = await trx
        .updateTable('users')
        .set({ email_verified: VERIFIED })
        .where('id', '=', token.userId)
        // A link to an address the user has since left verifies nothing.
        .where('email_normalized', '=', normalizeEmail(token.email))
        .returning(USER_COLUMNS)
        .executeTakeFirst();
      if (!row) throw new StaleToken();
      return toUser(row);
    }).catch(unlessStale(undefined));
  }

  resetPassword(
    hash: string,
    passwordHash: string,
    now: Date,
    mail: readonly OutgoingMail[],
  ): Promise<User | undefined> {
    return inWriteTransaction(this.#db, async (trx) => {
      const token = await consume(trx, hash, 'password_reset', now);
      if (!token) return undefined;
      // Postgres: this UPDATE locks the user row against the FOR SHARE of a login opening a
      // session (session-queries.ts), so each such login either committed its session
      // before (ended below, whose statement starts after the lock was granted and so sees
      // it) or re-checks the new hash after this commits and opens nothing.
      const row = await trx
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('id', '=', token.userId)
        .where('email_normalized', '=', normalizeEmail(token.email))
        .returning(USER_COLUMNS)
        .executeTakeFirst();
      if (!row) throw new StaleToken();
      // ASVS 3.3.3: a reset ends every session, wherever it was opened.
      await trx
        .updateTable('sessions')
        .set({ revoked_at: toDbTime(now), revoked_reason: 'password_changed' })
        .where('user_id', '=', token.userId)
        .where('revoked_at', 'is', null)
        .execute();
      await queueMail(trx, mail, now);
      return toUser(row);
    }).catch(unlessStale(undefined));
  }

  async changeEmail(hash: string, now: Date): Promise<EmailChangeResult> {
    try {
      return await inWriteTransaction(this.#db, async (trx): Promise<EmailChangeResult> => {
        const token = await consume(trx, hash, 'email_change', now);
        if (!token) return { outcome: 'invalid' };
        const before = await trx
          .selectFrom('users')
          .select(USER_COLUMNS)
          .where('id', '=', token.userId)
          .executeTakeFirst();
        if (!before) return { outcome: 'invalid' };
        const after = await trx
          .updateTable('users')
          .set({
            email: token.email,
            email_normalized: normalizeEmail(token.email),
            // Following the link proved the new address reads its mail.
            email_verified: VERIFIED,
          })
          .where('id', '=', token.userId)
          .returning(USER_COLUMNS)
          .executeTakeFirstOrThrow();
        // Links sent to the old address (a reset, a verification) are for it alone.
        await trx
          .deleteFrom('email_tokens')
          .where('user_id', '=', token.userId)
          .where('used_at', 'is', null)
          .execute();
        return { outcome: 'changed', before: toUser(before), after: toUser(after) };
      });
    } catch (error) {
      // API.md 8: uniqueness is checked again now; the rollback leaves the token unused.
      if (isUniqueViolation(error)) {
        throw new GatehouseError('email_taken', 'Email already registered', { cause: error });
      }
      throw error;
    }
  }

  async voidUnused(userId: number, purpose: MailTokenPurpose, now: Date): Promise<number> {
    const result = await this.#db
      .updateTable('email_tokens')
      .set({ used_at: toDbTime(now) })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async purge(before: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('email_tokens')
      .where((eb) =>
        eb.or([eb('expires_at', '<', toDbTime(before)), eb('used_at', '<', toDbTime(before))]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** Rolls back a consumed token whose change no longer applies (the address moved on). */
class StaleToken extends Error {}

function unlessStale<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof StaleToken) return value;
    throw error;
  };
}

/**
 * Marks the token used: one conditional UPDATE, so of concurrent callers exactly one gets its
 * row (Postgres: a waiting UPDATE re-checks `used_at` once the winner commits).
 */
async function consume(
  trx: Kysely<Database>,
  hash: string,
  purpose: MailTokenPurpose,
  now: Date,
): Promise<{ userId: number; email: string } | undefined> {
  const row = await trx
    .updateTable('email_tokens')
    .set({ used_at: toDbTime(now) })
    .where('token_hash', '=', hash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', toDbTime(now))
    .returning(['user_id', 'email'])
    .executeTakeFirst();
  return row && { userId: Number(row.user_id), email: row.email };
}

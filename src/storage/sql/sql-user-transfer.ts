import type { Kysely, Selectable } from 'kysely';
import { normalizeEmail } from '../../domain/email-address.ts';
import type { UserWithHash } from '../../domain/accounts/user.ts';
import type { ImportedUser, UserTransferRepository } from '../../domain/accounts/user-transfer.ts';
import type { Database, UsersTable } from './database.ts';
import { toDbTime } from './db-time.ts';
import { dialectOf } from './dialect.ts';
import { toUser, USER_COLUMNS } from './user-rows.ts';
import { inWriteTransaction } from './write-transaction.ts';

// Bound parameters per statement: SQLite allows 32766, Postgres 65535.
const LOOKUP_CHUNK = 1000;

type ExportRow = Pick<Selectable<UsersTable>, (typeof USER_COLUMNS)[number] | 'password_hash'>;

export class SqlUserTransfer implements UserTransferRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async existingEmails(normalizedEmails: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < normalizedEmails.length; i += LOOKUP_CHUNK) {
      const chunk = normalizedEmails.slice(i, i + LOOKUP_CHUNK);
      const rows = await this.#db
        .selectFrom('users')
        .select('email_normalized')
        .where('email_normalized', 'in', chunk)
        .execute();
      for (const row of rows) found.add(row.email_normalized);
    }
    return found;
  }

  async insertBatch(users: readonly ImportedUser[], now: Date): Promise<number> {
    if (users.length === 0) return 0;
    // better-sqlite3 binds no JS boolean; SQLite stores 0/1.
    const postgres = dialectOf(this.#db) === 'postgres';
    return inWriteTransaction(this.#db, async (trx) => {
      const result = await trx
        .insertInto('users')
        .values(
          users.map((user) => ({
            email: user.email,
            email_normalized: normalizeEmail(user.email),
            password_hash: user.passwordHash,
            role: user.role,
            created_at: toDbTime(user.createdAt),
            disabled_at: user.disabled ? toDbTime(now) : null,
            email_verified: postgres ? user.emailVerified : Number(user.emailVerified),
          })),
        )
        // The unique index on email_normalized: a user already present (a re-run, or one
        // registered meanwhile) is left as it is.
        .onConflict((conflict) => conflict.column('email_normalized').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n);
    });
  }

  async *exportAll(pageSize: number): AsyncIterable<UserWithHash> {
    let afterId = 0;
    for (;;) {
      // Keyset pages, not OFFSET: each page costs the same however far the export has come.
      const rows: ExportRow[] = await this.#db
        .selectFrom('users')
        .select([...USER_COLUMNS, 'password_hash'])
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(pageSize)
        .execute();
      for (const row of rows) yield { ...toUser(row), passwordHash: row.password_hash };
      if (rows.length < pageSize) return;
      afterId = Number(rows[rows.length - 1]!.id);
    }
  }
}

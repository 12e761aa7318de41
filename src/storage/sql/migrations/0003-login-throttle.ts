import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  // ASVS 2.2.1: per-account login throttling, shared by every instance on this store. Times are
  // epoch milliseconds (bigint), not timestamps: the one upsert that counts an attempt does
  // arithmetic on them, and integers add the same way in SQLite and Postgres.
  await db.schema
    .createTable('login_throttles')
    // SHA-256 (hex) of the normalised email: fixed size, and no list of tried addresses.
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('next_lock_ms', 'bigint', (c) => c.notNull())
    .addColumn('locked_until_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_attempt_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('login_throttles_last_attempt_ms_idx')
    .on('login_throttles')
    .column('last_attempt_ms')
    .execute();
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/storage/sql/database.ts';
import { migrationProvider } from '../../src/storage/sql/migrations/index.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';

// Migration 0005 on data written before it: failed logins that recorded a non-email username
// (maybe a password) keep a marker instead, and the throttle rows keyed by plain SHA-256 go.

async function openKysely(url: string): Promise<Kysely<Database>> {
  if (url.startsWith('sqlite:')) {
    return new Kysely({ dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
  }
  return new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
  });
}

const failedLogin = (email: string | null) => ({
  type: 'login.failed',
  created_at: '2030-01-01T00:00:00.000Z',
  actor_id: null,
  subject_id: null,
  email,
  ip: null,
  user_agent: null,
  details: '{"reason":"unknown_email"}',
});

for (const backend of STORAGE_BACKENDS) {
  describe(`migration 0005 on ${backend.name}`, { skip: backend.skip }, () => {
    it('replaces non-email usernames of failed logins and forgets the old throttle keys', async () => {
      const db = await openKysely(await backend.freshUrl());
      try {
        // As Storage.migrate does: Kysely's bookkeeping tables in this suite's own schema.
        const migrationTableSchema =
          backend.name === 'postgres'
            ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
                ?.schema
            : undefined;
        const migrator = new Migrator({ db, provider: migrationProvider, migrationTableSchema });
        assert.equal((await migrator.migrateTo('0004-audit-log')).error, undefined);
        await db
          .insertInto('audit_events')
          .values([
            failedLogin('correct horse battery staple'),
            failedLogin('Alice@Example.com'),
            failedLogin(null),
            { ...failedLogin('not an email either'), type: 'user.deleted' },
          ])
          .execute();
        await db
          .insertInto('login_throttles')
          .values({
            key: 'a'.repeat(64),
            failures: 3,
            next_lock_ms: 1000,
            locked_until_ms: 0,
            last_attempt_ms: 1,
          })
          .execute();

        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const emails = await db
          .selectFrom('audit_events')
          .select(['type', 'email'])
          .orderBy('id')
          .execute();
        assert.deepEqual(emails, [
          { type: 'login.failed', email: '[not an email address]' },
          { type: 'login.failed', email: 'Alice@Example.com' },
          { type: 'login.failed', email: null },
          { type: 'user.deleted', email: 'not an email either' },
        ]);
        assert.deepEqual(await db.selectFrom('login_throttles').selectAll().execute(), []);
      } finally {
        await db.destroy();
      }
    });
  });
}

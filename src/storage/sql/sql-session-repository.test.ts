import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Migrator } from 'kysely';
import type { Session } from '../../domain/sessions/session.ts';
import { countingKysely } from '../../../test/support/counting-kysely.ts';
import { migrationProvider } from './migrations/index.ts';
import { kyselyBatchRunner, kyselyRunner, sqliteBatchRunner, sqliteRunner } from './run-query.ts';
import { SqlSessionRepository } from './sql-session-repository.ts';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const LATER = new Date('2030-01-31T00:00:00.000Z');

// SQLite with the real schema, the runners open-storage.ts gives it, and a count of the
// queries Kysely builds (every builder's and every sql`` tag's compile passes its plugins).
async function setUp() {
  const database = new SqliteDatabase(':memory:');
  database.pragma('foreign_keys = on');
  const { db, built } = countingKysely(database);
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) throw error;
  await db
    .insertInto('users')
    .values({
      email: 'a@example.com',
      email_normalized: 'a@example.com',
      password_hash: 'H',
      role: 'user',
      created_at: T0.toISOString(),
      disabled_at: null,
    })
    .execute();
  const prepare = (text: string) => database.prepare(text);
  const url = 'sqlite::memory:';
  const sessions = new SqlSessionRepository(
    db,
    sqliteRunner(database, prepare, kyselyRunner(db), url),
    sqliteBatchRunner(database, prepare, kyselyBatchRunner(db), url),
  );
  const count = (table: 'sessions' | 'refresh_tokens') =>
    (database.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  return { db, sessions, count, built };
}

const session = (id: string): Session => ({
  id,
  userId: 1,
  createdAt: T0,
  lastUsedAt: T0,
  expiresAt: LATER,
  revokedAt: null,
  userAgent: null,
  ip: null,
  scope: 'me',
});

describe('SqlSessionRepository.create on SQLite: a login opens its session in one batch', () => {
  it('stores the session and its first refresh token with statements compiled once, no Kysely transaction', async () => {
    const { db, sessions, count, built } = await setUp();
    const before = built();
    const first = { hash: 'h1', createdAt: T0, expiresAt: LATER };
    assert.equal(await sessions.create(session('s1'), 'H', first), true);
    assert.equal(built(), before, 'no query (BEGIN, COMMIT) built per login');
    assert.equal(count('sessions'), 1);
    assert.equal(count('refresh_tokens'), 1);
    await db.destroy();
  });

  it('stores neither row when the hash verified is no longer the stored one', async () => {
    const { db, sessions, count } = await setUp();
    const first = { hash: 'h1', createdAt: T0, expiresAt: LATER };
    assert.equal(await sessions.create(session('s1'), 'old hash', first), false);
    assert.equal(count('sessions'), 0);
    assert.equal(count('refresh_tokens'), 0);
    await db.destroy();
  });

  it('stores neither row when the refresh token hash is taken, and rejects', async () => {
    const { db, sessions, count } = await setUp();
    const first = { hash: 'h1', createdAt: T0, expiresAt: LATER };
    assert.equal(await sessions.create(session('s1'), 'H', first), true);
    await assert.rejects(sessions.create(session('s2'), 'H', first));
    assert.equal(count('sessions'), 1);
    assert.equal(count('refresh_tokens'), 1);
    await db.destroy();
  });
});

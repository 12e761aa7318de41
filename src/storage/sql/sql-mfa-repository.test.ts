import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import { countingKysely } from '../../../test/support/counting-kysely.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';
import { SqlMfaRepository } from './sql-mfa-repository.ts';

// Only the columns the second-factor rule reads; the contract suites run the real schema on
// both stores (test/contract/mfa-repository.contract.ts, passkey-repository.contract.ts).
function setUp() {
  const database = new SqliteDatabase(':memory:');
  database.exec(`
    create table totp_factors (user_id integer primary key, confirmed_at text);
    create table passkeys (id text primary key, user_id integer not null);
    insert into totp_factors values (1, null), (2, '2026-01-01T00:00:00.000Z');
    insert into passkeys values ('p', 3);
  `);
  const { db, built } = countingKysely(database);
  const ran: string[] = [];
  const via = kyselyRunner(db);
  const run: QueryRunner = <Row>(query: CompiledQuery<Row>) => {
    ran.push(query.sql);
    return via(query);
  };
  return { db, run, ran, built };
}

describe('SqlMfaRepository.hasSecondFactor: the password grant asks it once per login', () => {
  it('runs a statement compiled once through the store runner: no query built per call', async () => {
    const { db, run, ran, built } = setUp();
    const mfa = new SqlMfaRepository(db, run);
    const before = built();
    assert.equal(await mfa.hasSecondFactor(1), false, 'TOTP not confirmed');
    assert.equal(await mfa.hasSecondFactor(2), true, 'TOTP confirmed');
    assert.equal(await mfa.hasSecondFactor(3), true, 'a passkey');
    assert.equal(await mfa.hasSecondFactor(4), false, 'none');
    assert.equal(built(), before, 'no Kysely query built per call');
    assert.equal(ran.length, 4);
    assert.equal(new Set(ran).size, 1, 'one SQL text');
    await db.destroy();
  });
});

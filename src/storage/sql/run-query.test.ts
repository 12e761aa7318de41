import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, sql, SqliteDialect, type QueryResult } from 'kysely';
import { GatehouseError } from '../../domain/errors.ts';
import type { Database } from './database.ts';
import {
  kyselyBatchRunner,
  sqliteBatchRunner,
  sqliteRunner,
  sqliteUnsyncedRunner,
  type QueryRunner,
} from './run-query.ts';

const query = (sqlText: string, parameters: unknown[] = []) =>
  CompiledQuery.raw(sqlText, parameters) as CompiledQuery<Record<string, unknown>>;

function setUp() {
  const database = new SqliteDatabase(':memory:');
  database.exec(
    "create table t (id integer primary key, name text); insert into t values (1, 'a')",
  );
  const viaKysely: string[] = [];
  const fallback = (async (compiled: CompiledQuery) => {
    viaKysely.push(compiled.sql);
    return { rows: [{ fallback: true }] };
  }) as QueryRunner;
  const run = sqliteRunner(
    database,
    (sqlText) => database.prepare(sqlText),
    fallback,
    'sqlite::memory:',
  );
  return { database, run, viaKysely };
}

describe('sqliteRunner: the hot statements, straight to better-sqlite3', () => {
  it('reads rows without going through Kysely', async () => {
    const { run, viaKysely } = setUp();
    const found = await run(query('select id, name from t where id = ?', [1]));
    assert.deepEqual(found.rows, [{ id: 1, name: 'a' }]);
    assert.deepEqual((await run(query('select id from t where id = ?', [2]))).rows, []);
    assert.deepEqual(viaKysely, []);
  });

  it('writes, with the counts and RETURNING rows Kysely would give', async () => {
    const { database, run, viaKysely } = setUp();
    const inserted: QueryResult<unknown> = await run(
      query('insert into t (id, name) values (?, ?)', [2, 'b']),
    );
    assert.deepEqual(inserted, { rows: [], numAffectedRows: 1n, insertId: 2n });
    const updated = await run(query("update t set name = 'c' where id = ? returning name", [2]));
    assert.deepEqual(updated.rows, [{ name: 'c' }]);
    assert.equal((await run(query('delete from t where id = ?', [9]))).numAffectedRows, 0n);
    assert.deepEqual(database.prepare('select name from t where id = 2').get(), { name: 'c' });
    assert.deepEqual(viaKysely, []);
  });

  it('waits for Kysely while a transaction is open: no reading its uncommitted writes, no writing inside it', async () => {
    const { database, run, viaKysely } = setUp();
    database.exec("begin; update t set name = 'uncommitted' where id = 1");
    assert.deepEqual((await run(query('select name from t where id = ?', [1]))).rows, [
      { fallback: true },
    ]);
    await run(query('insert into t (id, name) values (?, ?)', [3, 'in the transaction?']));
    assert.equal(viaKysely.length, 2);
    database.exec('rollback');
    assert.deepEqual((await run(query('select name from t where id = ?', [1]))).rows, [
      { name: 'a' },
    ]);
    assert.deepEqual(
      database.prepare('select count(*) as n from t').get(),
      { n: 1 },
      'nothing written',
    );
  });

  it('reports a locked or unreadable file as store_unavailable, like every other query', async () => {
    const { run } = setUp();
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const locked = sqliteRunner(
      new SqliteDatabase(':memory:'),
      () => {
        throw busy;
      },
      run,
      'sqlite::memory:',
    );
    await assert.rejects(
      locked(query('select 1')),
      (error: unknown) => error instanceof GatehouseError && error.code === 'store_unavailable',
    );
  });

  it('passes other errors through untouched (a unique violation stays one)', async () => {
    const { run } = setUp();
    await assert.rejects(run(query('insert into t (id, name) values (?, ?)', [1, 'dup'])), {
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
  });
});

describe('sqliteUnsyncedRunner: rate-limit state committed without an fsync', () => {
  // What the connection's level is while each write to t runs, recorded by a trigger.
  function setUpObserved(synchronous: 'full' | 'normal') {
    const { database, run, viaKysely } = setUp();
    database.pragma(`synchronous = ${synchronous}`);
    database.exec(`create table seen (level integer);
      create trigger seen_insert after insert on t begin
        insert into seen select synchronous from pragma_synchronous;
      end`);
    const levels = () => database.prepare('select level from seen').pluck().all();
    const level = () => database.pragma('synchronous', { simple: true });
    return {
      database,
      run: sqliteUnsyncedRunner(database, run, synchronous),
      viaKysely,
      levels,
      level,
    };
  }

  it('runs the statement at NORMAL and puts FULL back right after', async () => {
    const { database, run, levels, level } = setUpObserved('full');
    const inserted = await run(query('insert into t (id, name) values (?, ?)', [2, 'b']));
    assert.equal(inserted.numAffectedRows, 1n);
    assert.deepEqual(levels(), [1]);
    assert.equal(level(), 2);
    assert.deepEqual(database.prepare('select name from t where id = 2').get(), { name: 'b' });
  });

  it('puts FULL back when the statement fails', async () => {
    const { run, level } = setUpObserved('full');
    await assert.rejects(run(query('insert into t (id, name) values (?, ?)', [1, 'dup'])), {
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
    assert.equal(level(), 2);
  });

  it('leaves the level alone while a transaction is open, and waits for it through Kysely', async () => {
    const { database, run, viaKysely, level } = setUpObserved('full');
    database.exec('begin');
    await run(query('insert into t (id, name) values (?, ?)', [3, 'c']));
    assert.equal(viaKysely.length, 1);
    assert.equal(level(), 2);
    database.exec('rollback');
  });

  it('changes nothing when NORMAL is configured anyway', async () => {
    const { run, levels, level } = setUpObserved('normal');
    await run(query('insert into t (id, name) values (?, ?)', [2, 'b']));
    assert.deepEqual(levels(), [1]);
    assert.equal(level(), 1);
  });
});

describe('sqliteBatchRunner: statements in one transaction, one commit', () => {
  function setUpBatch() {
    const { database } = setUp();
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    const runBatch = sqliteBatchRunner(
      database,
      (sqlText) => database.prepare(sqlText),
      kyselyBatchRunner(db),
      'sqlite::memory:',
    );
    const names = () => database.prepare('select name from t order by id').pluck().all();
    return { database, db, runBatch, names };
  }

  it('runs the statements in order and gives each one the result Kysely would', async () => {
    const { runBatch, names } = setUpBatch();
    const results = await runBatch([
      query('insert into t (id, name) values (?, ?)', [2, 'b']),
      query("update t set name = name || '!' where id >= ? returning name", [1]),
      query('delete from t where id = ?', [9]),
    ]);
    assert.deepEqual(results, [
      { rows: [], numAffectedRows: 1n, insertId: 2n },
      { rows: [{ name: 'a!' }, { name: 'b!' }] },
      { rows: [], numAffectedRows: 0n, insertId: 2n },
    ]);
    assert.deepEqual(names(), ['a!', 'b!']);
  });

  it('keeps none of the statements when one fails, and rejects with its error', async () => {
    const { database, runBatch, names } = setUpBatch();
    await assert.rejects(
      runBatch([
        query('insert into t (id, name) values (?, ?)', [2, 'b']),
        query('insert into t (id, name) values (?, ?)', [1, 'dup']),
        query('insert into t (id, name) values (?, ?)', [3, 'c']),
      ]),
      { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
    );
    assert.deepEqual(names(), ['a']);
    assert.equal(database.inTransaction, false);
  });

  it('waits for a transaction open on the connection, then commits apart from it', async () => {
    const { db, runBatch, names } = setUpBatch();
    let batch: Promise<unknown> | undefined;
    await db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      await sql`update t set name = 'rolled back' where id = 1`.execute(connection);
      batch = runBatch([query('insert into t (id, name) values (?, ?)', [2, 'b'])]);
      // The batch neither reads nor writes inside this transaction: it has not run yet.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        (await sql<{ n: number }>`select count(*) as n from t`.execute(connection)).rows,
        [{ n: 1 }],
      );
      await sql`rollback`.execute(connection);
    });
    await batch;
    assert.deepEqual(names(), ['a', 'b']);
  });
});

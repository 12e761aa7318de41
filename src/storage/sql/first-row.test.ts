import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { GatehouseError } from '../../domain/errors.ts';
import { sqliteFirstRow, type FirstRowReader } from './first-row.ts';

function setUp() {
  const database = new SqliteDatabase(':memory:');
  database.exec(
    "create table t (id integer primary key, name text); insert into t values (1, 'a')",
  );
  const viaKysely: string[] = [];
  const fallback: FirstRowReader = async (sqlText) => {
    viaKysely.push(sqlText);
    return { fallback: true };
  };
  const read = sqliteFirstRow(database, (sqlText) => database.prepare(sqlText), fallback);
  return { database, read, viaKysely };
}

describe('sqliteFirstRow: the direct read of the per-request session check', () => {
  it('returns the first row, or undefined, without going through Kysely', async () => {
    const { read, viaKysely } = setUp();
    assert.deepEqual(await read('select id, name from t where id = ?', [1]), { id: 1, name: 'a' });
    assert.equal(await read('select id, name from t where id = ?', [2]), undefined);
    assert.deepEqual(viaKysely, []);
  });

  it("waits for Kysely while a transaction is open, so it can't read uncommitted writes", async () => {
    const { database, read, viaKysely } = setUp();
    database.exec("begin; update t set name = 'uncommitted' where id = 1");
    assert.deepEqual(await read('select name from t where id = ?', [1]), { fallback: true });
    assert.equal(viaKysely.length, 1);
    database.exec('rollback');
    assert.deepEqual(await read('select name from t where id = ?', [1]), { name: 'a' });
  });

  it('reports a locked or unreadable file as store_unavailable, like every other query', async () => {
    const { read } = setUp();
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const locked = sqliteFirstRow(
      new SqliteDatabase(':memory:'),
      () => {
        throw busy;
      },
      read,
    );
    await assert.rejects(
      locked('select 1', []),
      (error: unknown) => error instanceof GatehouseError && error.code === 'store_unavailable',
    );
  });
});

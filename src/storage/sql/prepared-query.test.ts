import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { prepareQuery } from './prepared-query.ts';

interface Db {
  items: { id: number; name: string; size: number };
}

function setUp() {
  const db = new Kysely<Db>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
  });
  return db;
}

describe('prepareQuery: built once, run with new values', () => {
  it('binds each named value where it stands, and keeps fixed values fixed', async () => {
    const db = setUp();
    await sql`create table items (id integer primary key, name text, size integer)`.execute(db);
    const insert = prepareQuery<'id' | 'name'>()((param) =>
      db.insertInto('items').values({ id: param('id'), name: param('name'), size: 7 }),
    );
    await db.executeQuery(insert({ id: 1, name: 'a' }));
    await db.executeQuery(insert({ name: 'b', id: 2 }));
    const bigger = prepareQuery<'min' | 'name'>()((param) =>
      db
        .selectFrom('items')
        .select(['id', 'name'])
        .where('size', '>=', sql<number>`cast(${param<number>('min')} as integer)`)
        .where('name', '!=', param<string>('name')),
    );
    const { rows } = await db.executeQuery(bigger({ min: 7, name: 'b' }));
    assert.deepEqual(rows, [{ id: 1, name: 'a' }]);
    // The row type is the builder's, inferred with the parameter names given (tsc checks it).
    const typed: Array<{ id: number; name: string }> = rows;
    // @ts-expect-error `size` was not selected
    assert.equal(rows[0]?.size, undefined);
    assert.equal(typed.length, 1);
    assert.deepEqual((await db.executeQuery(bigger({ min: 8, name: 'x' }))).rows, []);
    await db.destroy();
  });

  it('compiles the SQL text once: every run gives the same text, new parameters', () => {
    const db = setUp();
    const find = prepareQuery<'id'>()((param) =>
      db.selectFrom('items').selectAll().where('id', '=', param<number>('id')),
    );
    const first = find({ id: 1 });
    const second = find({ id: 2 });
    assert.equal(first.sql, second.sql);
    assert.deepEqual([first.parameters, second.parameters], [[1], [2]]);
  });
});

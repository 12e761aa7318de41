import type SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import { translate } from './store-unavailable.ts';

/**
 * Runs one precompiled read (SQL text with placeholders) and returns its first row. The
 * repositories use it for the read every authenticated request makes.
 */
export type FirstRowReader = (sqlText: string, parameters: readonly unknown[]) => Promise<unknown>;

/** Through Kysely, on any dialect. */
export function kyselyFirstRow(db: Kysely<Database>): FirstRowReader {
  return async (sqlText, parameters) =>
    (await db.executeQuery(CompiledQuery.raw(sqlText, [...parameters]))).rows[0];
}

/**
 * SQLite: the prepared statement, called directly. better-sqlite3 is synchronous, so Kysely's
 * connection mutex and promise chain were half the cost of the lookup (about 10 of 20 µs,
 * BENCHMARKS.md). While a transaction holds the one connection, the read goes through Kysely
 * and waits for it, so it never sees that transaction's uncommitted writes.
 */
export function sqliteFirstRow(
  database: SqliteDatabase.Database,
  prepare: (sqlText: string) => SqliteDatabase.Statement,
  viaKysely: FirstRowReader,
): FirstRowReader {
  return async (sqlText, parameters) => {
    if (database.inTransaction) return viaKysely(sqlText, parameters);
    try {
      return prepare(sqlText).get(...parameters);
    } catch (error) {
      throw translate(error);
    }
  };
}

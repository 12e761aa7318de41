import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './database.ts';
import { translate } from './store-unavailable.ts';

/**
 * Runs one compiled statement (prepared-query.ts). The repositories send the statements of
 * every authenticated request, login and refresh through it.
 */
export type QueryRunner = <Row>(query: CompiledQuery<Row>) => Promise<QueryResult<Row>>;

/** Through Kysely, on any dialect. */
export function kyselyRunner(db: Kysely<Database>): QueryRunner {
  return (query) => db.executeQuery(query);
}

/**
 * SQLite: the prepared statement, called directly. better-sqlite3 is synchronous, so Kysely's
 * connection mutex and promise chain were most of the cost: half of the per-request session
 * read (about 10 of 20 µs), and 20-25 µs and ~4 KB of garbage per write (BENCHMARKS.md). While a
 * transaction holds the one connection, the statement goes through Kysely and waits for it, so
 * it neither reads that transaction's uncommitted writes nor writes inside it. Outside one, no
 * statement of Kysely's can be half-done: each runs synchronously once it has the connection.
 */
export function sqliteRunner(
  database: SqliteDatabase.Database,
  prepare: (sqlText: string) => SqliteDatabase.Statement,
  viaKysely: QueryRunner,
  url: string,
): QueryRunner {
  // Not async, and the parameters bound as one array (as Kysely's driver binds them), not
  // spread: no async frame nor argument copy around a synchronous read (issue 21).
  return <Row>(query: CompiledQuery<Row>): Promise<QueryResult<Row>> => {
    if (database.inTransaction) return viaKysely(query);
    try {
      const statement = prepare(query.sql);
      // The same result Kysely's SQLite driver gives: rows for a statement that returns any
      // (SELECT, RETURNING), otherwise the counts of a write.
      if (statement.reader)
        return Promise.resolve({ rows: statement.all(query.parameters) as Row[] });
      const { changes, lastInsertRowid } = statement.run(query.parameters);
      return Promise.resolve({
        rows: [],
        numAffectedRows: BigInt(changes),
        insertId: BigInt(lastInsertRowid),
      });
    } catch (error) {
      return Promise.reject(translate(error, url));
    }
  };
}

/**
 * SQLite: `run`, with each statement committed at `synchronous=NORMAL` and the configured level
 * (`synchronous`) restored right after, for state that needs atomicity but not durability: the
 * login throttle (ASVS 2.2.1), whose last counts a power loss may forget. In WAL mode a NORMAL
 * commit skips the fsync, and the next FULL commit syncs the WAL with it in; at FULL, each of a
 * login's two throttle writes cost one fsync of its own, on the event loop (issue 21). Nothing
 * interleaves: better-sqlite3 runs the three statements synchronously. While a transaction is
 * open, the level can't change (SQLite refuses), and the statement goes through `run`, which
 * waits for that transaction as before.
 */
export function sqliteUnsyncedRunner(
  database: SqliteDatabase.Database,
  run: QueryRunner,
  synchronous: 'full' | 'normal',
): QueryRunner {
  if (synchronous === 'normal') return run;
  // exec, not a statement prepared once: SQLite applies `PRAGMA synchronous = ...` while
  // preparing it, so running a prepared one again changes nothing. ~1 µs each.
  return (query) => {
    if (database.inTransaction) return run(query);
    database.exec('pragma synchronous = normal');
    try {
      return run(query);
    } finally {
      database.exec('pragma synchronous = full');
    }
  };
}

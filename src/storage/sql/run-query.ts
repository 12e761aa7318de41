import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './database.ts';
import { translate } from './store-unavailable.ts';
import { inWriteTransaction } from './write-transaction.ts';

/**
 * Runs one compiled statement (prepared-query.ts). The repositories send the statements of
 * every authenticated request, login and refresh through it.
 */
export type QueryRunner = <Row>(query: CompiledQuery<Row>) => Promise<QueryResult<Row>>;

/**
 * Runs compiled statements in order in one write transaction: all of them commit, in one
 * commit (one fsync on SQLite at synchronous=FULL), or none does and the call rejects.
 */
export type BatchRunner = (queries: readonly CompiledQuery[]) => Promise<QueryResult<unknown>[]>;

/** Through Kysely, on any dialect. */
export function kyselyRunner(db: Kysely<Database>): QueryRunner {
  return (query) => db.executeQuery(query);
}

/** Through Kysely, on any dialect, in inWriteTransaction (BEGIN IMMEDIATE on SQLite). */
export function kyselyBatchRunner(db: Kysely<Database>): BatchRunner {
  return (queries) =>
    inWriteTransaction(db, async (trx) => {
      const results: QueryResult<unknown>[] = [];
      for (const query of queries) results.push(await trx.executeQuery(query));
      return results;
    });
}

/** One statement run on better-sqlite3, with the result Kysely's SQLite driver gives. */
function runStatement<Row>(statement: SqliteDatabase.Statement, parameters: readonly unknown[]) {
  // Rows for a statement that returns any (SELECT, RETURNING), otherwise the counts of a write.
  if (statement.reader) return { rows: statement.all(parameters) as Row[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
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
      return Promise.resolve(runStatement<Row>(prepare(query.sql), query.parameters));
    } catch (error) {
      return Promise.reject(translate(error, url));
    }
  };
}

/**
 * SQLite: the statements prepared and run directly, between BEGIN IMMEDIATE and COMMIT, all
 * synchronously: nothing else runs on the connection meanwhile, so no other request's
 * statement lands inside the transaction. On an error, better-sqlite3 rolls back and the call
 * rejects. While a transaction is open on the connection (one of Kysely's, awaiting its next
 * statement), the batch goes through Kysely (`viaKysely`) and waits for it, as sqliteRunner does.
 */
export function sqliteBatchRunner(
  database: SqliteDatabase.Database,
  prepare: (sqlText: string) => SqliteDatabase.Statement,
  viaKysely: BatchRunner,
  url: string,
): BatchRunner {
  const inOneTransaction = database.transaction((queries: readonly CompiledQuery[]) =>
    queries.map((query) => runStatement<unknown>(prepare(query.sql), query.parameters)),
  );
  return (queries) => {
    if (database.inTransaction) return viaKysely(queries);
    try {
      return Promise.resolve(inOneTransaction.immediate(queries));
    } catch (error) {
      return Promise.reject(translate(error, url));
    }
  };
}

/**
 * SQLite: `run`, with each statement committed at `synchronous=NORMAL` and the configured level
 * (`synchronous`) restored right after, for state that needs atomicity but not durability: the
 * login throttle (ASVS 2.2.1), whose last counts a power loss may forget, and the mail sender's
 * claims and outcomes (sql-mail-outbox.ts: delivery is at least once). In WAL mode a NORMAL
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

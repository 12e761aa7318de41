import { statSync } from 'node:fs';
import {
  ImportSourceChangedError,
  type ImportSource,
  type SourceRow,
} from '../../domain/accounts/import-users.ts';

/**
 * Reads the users of a FastAPI-tutorial app's database (API.md 10): a `users` table with
 * `email`, `hashed_password` and `is_active`, and `created_at` when it has one. Apps that
 * renamed them say so with the options. Opened read-only; nothing is written there.
 */
export interface FastapiTable {
  table: string;
  email: string;
  hash: string;
  /** Absent: every user is active. */
  active?: string;
  /** Absent: `created_at` when the table has it, else the time of the import. */
  createdAt?: string;
  /** A boolean column that makes a user an admin (e.g. `is_superuser`); absent: all users. */
  admin?: string;
}

export const FASTAPI_DEFAULTS: FastapiTable = {
  table: 'users',
  email: 'email',
  hash: 'hashed_password',
  active: 'is_active',
};

const PAGE = 1000;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A checked identifier, double-quoted (the same in SQLite and Postgres). */
function quote(name: string, what: string): string {
  if (!IDENTIFIER.test(name))
    throw new FastapiSourceError(`${what} is not a plain SQL name: ${name}`);
  return `"${name}"`;
}

export class FastapiSourceError extends Error {}

function plan(table: FastapiTable, columns: ReadonlySet<string>): { sql: string } {
  const missing = [table.email, table.hash, table.active, table.createdAt, table.admin].filter(
    (c): c is string => c !== undefined && !columns.has(c),
  );
  if (missing.length > 0) {
    throw new FastapiSourceError(
      `table ${table.table} has no column ${missing.join(', ')} (columns: ${[...columns].join(', ')}); ` +
        'name the right ones with --email-column, --hash-column, --active-column, --created-column',
    );
  }
  const createdAt = table.createdAt ?? (columns.has('created_at') ? 'created_at' : undefined);
  const selected = [
    `${quote(table.email, 'email column')} as email`,
    `${quote(table.hash, 'hash column')} as password_hash`,
    table.active ? `${quote(table.active, 'active column')} as is_active` : 'null as is_active',
    createdAt ? `${quote(createdAt, 'created column')} as created_at` : 'null as created_at',
    table.admin ? `${quote(table.admin, 'admin column')} as is_admin` : 'null as is_admin',
  ];
  return { sql: `select ${selected.join(', ')} from ${quote(table.table, 'table')}` };
}

interface FastapiRow {
  email: unknown;
  password_hash: unknown;
  is_active: unknown;
  created_at: unknown;
  is_admin: unknown;
}

function toSourceRow(row: FastapiRow, index: number): SourceRow {
  const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 't' || v === 'true';
  return {
    line: index + 1,
    fields: {
      email: row.email,
      password_hash: row.password_hash,
      // A NULL is_active is the column's default (True) not yet applied: active.
      disabled:
        row.is_active === null || row.is_active === undefined ? false : !truthy(row.is_active),
      created_at: row.created_at ?? undefined,
      role: truthy(row.is_admin) ? 'admin' : 'user',
    },
  };
}

async function* sqliteRows(path: string, table: FastapiTable): AsyncGenerator<SourceRow> {
  const { default: SqliteDatabase } = await import('better-sqlite3');
  let db;
  try {
    db = new SqliteDatabase(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new FastapiSourceError(`cannot open sqlite:${path}: ${(error as Error).message}`);
  }
  try {
    const info = db.prepare(`pragma table_info(${quote(table.table, 'table')})`).all() as {
      name: string;
    }[];
    if (info.length === 0)
      throw new FastapiSourceError(`sqlite:${path} has no table ${table.table}`);
    const { sql } = plan(table, new Set(info.map((c) => c.name)));
    let index = 0;
    // SQLite's rowid order is the order users were registered in.
    for (const row of db.prepare(`${sql} order by rowid`).iterate() as Iterable<FastapiRow>) {
      yield toSourceRow(row, index++);
    }
  } finally {
    db.close();
  }
}

async function* postgresRows(url: string, table: FastapiTable): AsyncGenerator<SourceRow> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new FastapiSourceError(
      `cannot connect to the FastAPI database: ${(error as Error).message}`,
    );
  }
  try {
    quote(table.table, 'table');
    const columns = await client.query<{ column_name: string }>(
      `select column_name from information_schema.columns
        where table_schema = current_schema() and table_name = $1`,
      [table.table],
    );
    if (columns.rows.length === 0) {
      throw new FastapiSourceError(
        `the FastAPI database has no table ${table.table} (in its search_path schema)`,
      );
    }
    const { sql } = plan(table, new Set(columns.rows.map((c) => c.column_name)));
    // Read in one read-only snapshot, so rows added meanwhile are not half seen; through a
    // cursor, PAGE rows at a time, so a million users are never all in memory.
    await client.query('begin transaction isolation level repeatable read read only');
    await client.query(`declare gatehouse_import no scroll cursor for ${sql} order by 1`);
    let index = 0;
    for (;;) {
      const page = await client.query<FastapiRow>(`fetch forward ${PAGE} from gatehouse_import`);
      for (const row of page.rows) yield toSourceRow(row, index++);
      if (page.rows.length < PAGE) break;
    }
    await client.query('commit');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The rows of `url` (`sqlite:PATH` or `postgres://...`), each numbered in the order read. */
export function fastapiRows(url: string, table: FastapiTable): AsyncGenerator<SourceRow> {
  if (url.startsWith('sqlite:')) return sqliteRows(url.slice('sqlite:'.length), table);
  if (/^postgres(ql)?:\/\//.test(url)) return postgresRows(url, table);
  throw new FastapiSourceError('--from-fastapi takes sqlite:PATH or postgres://...');
}

/** A SQLite file's version: the file and its write-ahead log, where commits land first. */
function sqliteVersion(path: string): string {
  const version = (file: string) => {
    try {
      const stats = statSync(file);
      return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    } catch {
      return 'none';
    }
  };
  return `${version(path)}/${version(`${path}-wal`)}`;
}

/**
 * The app's users as `gatehouse import` reads them: queried anew for each of its two passes.
 * For a SQLite file, the second read first compares the file and its WAL with how the first
 * read left them (ImportSourceChangedError before anything is written); any other change, and any in
 * Postgres, is caught batch by batch by the import's digests.
 */
export function fastapiSource(url: string, table: FastapiTable): ImportSource {
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined;
  let first: string | undefined;
  return {
    async *read() {
      if (path !== undefined && first !== undefined && sqliteVersion(path) !== first) {
        throw new ImportSourceChangedError(
          `${url} changed since it was checked (a user added or changed meanwhile?); ` +
            'nothing was written: run the import again',
        );
      }
      yield* fastapiRows(url, table);
      // Taken once the first read has closed the file: opening it may itself touch the WAL.
      if (path !== undefined && first === undefined) first = sqliteVersion(path);
    },
  };
}

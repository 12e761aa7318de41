import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { StorageBackend } from './storage-backends.ts';

/**
 * A fresh, empty store on `backend` that more than one connection can open: a file for SQLite
 * (an in-memory database belongs to one connection), a fresh schema for Postgres.
 */
export async function sharedStoreUrl(backend: StorageBackend): Promise<string> {
  if (backend.name === 'postgres') return backend.freshUrl();
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-store-')), 'gatehouse.db')}`;
}

/** A test's own connection to a store, past Gatehouse: what someone with database access does. */
export interface RawSql {
  /** Runs one statement; `?` placeholders on SQLite, `$1...` on Postgres. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export async function openRawSql(url: string): Promise<RawSql> {
  if (url.startsWith('sqlite:')) {
    const db = new SqliteDatabase(url.slice('sqlite:'.length));
    return {
      query: async <Row>(text: string, params: unknown[] = []) => {
        const statement = db.prepare(text);
        if (statement.reader) return statement.all(...params) as Row[];
        statement.run(...params);
        return [];
      },
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    query: async <Row>(text: string, params: unknown[] = []) =>
      (await client.query(text, params)).rows as Row[],
    close: () => client.end(),
  };
}

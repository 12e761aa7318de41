import { PostgresAdapter, type Kysely } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see any schema
export function dialectOf(db: Kysely<any>): SqlDialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Column types that differ between the two stores; used by migrations only. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see any schema
export function columnTypes(db: Kysely<any>) {
  const postgres = dialectOf(db) === 'postgres';
  return {
    timestamp: postgres ? ('timestamptz' as const) : ('text' as const),
  };
}

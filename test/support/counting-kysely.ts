import type SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type KyselyPlugin } from 'kysely';
import type { Database } from '../../src/storage/sql/database.ts';

/**
 * Kysely over `database` with a count of the queries it builds: every builder's and every
 * sql`` tag's compile passes its plugins, so `built()` tells whether a path still builds
 * queries per call (issue 21: the hot paths run statements compiled once).
 */
export function countingKysely(database: SqliteDatabase.Database): {
  db: Kysely<Database>;
  built: () => number;
} {
  let built = 0;
  const counting: KyselyPlugin = {
    transformQuery: (args) => {
      built++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database }),
    plugins: [counting],
  });
  return { db, built: () => built };
}

import type { StorageConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';

/** Reads the database's and Redis's GATEHOUSE_ variables. */
export function readStorageConfig(read: EnvReader): StorageConfig {
  const databaseUrl = read.string('GATEHOUSE_DATABASE_URL', 'sqlite:./gatehouse.db');
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    read.problems.push(
      `GATEHOUSE_DATABASE_URL: expected sqlite:PATH, sqlite::memory: or postgres://USER@HOST/DB`,
    );
  }
  const redisUrl = read.optional('GATEHOUSE_REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    read.problems.push('GATEHOUSE_REDIS_URL: expected redis://HOST:PORT or rediss://...');
  }
  return {
    databaseUrl,
    poolSize: read.integer('GATEHOUSE_DATABASE_POOL_SIZE', 10, 1, 1000),
    sqliteSynchronous: read.choice('GATEHOUSE_SQLITE_SYNCHRONOUS', 'full', ['full', 'normal']),
    redisUrl,
    redisKeyPrefix: read.string('GATEHOUSE_REDIS_KEY_PREFIX', 'gatehouse:'),
  };
}

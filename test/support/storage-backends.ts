import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface StorageBackend {
  name: 'sqlite' | 'postgres';
  /** Why the backend's suites are skipped here, or false when they run. */
  skip: string | false;
  /** A fresh, empty database URL for one suite. */
  freshUrl(): Promise<string>;
}

const POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL;

/**
 * SQLite always; Postgres when GATEHOUSE_TEST_POSTGRES_URL is set (CI sets it). Each Postgres
 * suite gets its own schema, so suites never see each other's rows.
 */
export const STORAGE_BACKENDS: StorageBackend[] = [
  { name: 'sqlite', skip: false, freshUrl: async () => 'sqlite::memory:' },
  {
    name: 'postgres',
    skip: POSTGRES_URL ? false : 'set GATEHOUSE_TEST_POSTGRES_URL to run the Postgres suites',
    async freshUrl() {
      if (!POSTGRES_URL) throw new Error('GATEHOUSE_TEST_POSTGRES_URL is not set');
      const schema = `gh_test_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`create schema ${schema}`);
      } finally {
        await client.end();
      }
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return url.toString();
    },
  },
];

const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL;

/**
 * Redis when GATEHOUSE_TEST_REDIS_URL is set (CI sets it). `env()` gives the settings of a
 * Gatehouse that shares it, under a fresh key prefix, so counters of other suites never leak in.
 */
export const REDIS_BACKEND = {
  name: 'redis',
  skip: REDIS_URL ? false : 'set GATEHOUSE_TEST_REDIS_URL to run the Redis suites',
  /** The server's URL; throws when the suites are skipped. */
  get url(): string {
    if (!REDIS_URL) throw new Error('GATEHOUSE_TEST_REDIS_URL is not set');
    return REDIS_URL;
  },
  freshKeyPrefix: (): string => `gatehouse-test-${randomBytes(6).toString('hex')}:`,
  env(): Record<string, string> {
    return { GATEHOUSE_REDIS_URL: this.url, GATEHOUSE_REDIS_KEY_PREFIX: this.freshKeyPrefix() };
  },
} as const;

import type { Config } from '../src/config/config.ts';
import { loadConfig } from '../src/config/load-config.ts';

/** The argon2id parameters of the seeded hashes and of the raw baseline, so no login rehashes. */
export const BENCH_ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

/**
 * The environment of every benchmarked Gatehouse: no per-IP limits (the load comes from one
 * address), quiet logs, a queue deep enough for the flood, and the seeded hashes' parameters.
 */
export function benchGatehouseEnv(databaseUrl: string): Record<string, string> {
  return {
    GATEHOUSE_DATABASE_URL: databaseUrl,
    GATEHOUSE_JWT_SECRET: BENCH_SECRET,
    GATEHOUSE_RATE_LIMIT_TOKEN: '0',
    GATEHOUSE_RATE_LIMIT_REGISTER: '0',
    GATEHOUSE_RATE_LIMIT_REFRESH: '0',
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_HASH_QUEUE_LIMIT: '10000',
    GATEHOUSE_ARGON2_MEMORY_KIB: String(BENCH_ARGON2.memoryCost),
    GATEHOUSE_ARGON2_ITERATIONS: String(BENCH_ARGON2.timeCost),
    GATEHOUSE_ARGON2_PARALLELISM: String(BENCH_ARGON2.parallelism),
  };
}

/**
 * A Config for the in-process benches (audit-append.ts, signer-check.ts): the server's own
 * loading, on an in-memory SQLite store unless `env` names another, with no per-IP limits.
 */
export function benchConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
    GATEHOUSE_JWT_SECRET: BENCH_SECRET,
    GATEHOUSE_RATE_LIMIT_TOKEN: '0',
    GATEHOUSE_RATE_LIMIT_REGISTER: '0',
    ...env,
  });
}

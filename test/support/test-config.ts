import { loadConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/config.ts';

/** A Config as the server would load it, on an in-memory SQLite store unless told otherwise. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
    GATEHOUSE_JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    GATEHOUSE_RATE_LIMIT_TOKEN: '0',
    GATEHOUSE_RATE_LIMIT_REGISTER: '0',
    ...env,
  });
}

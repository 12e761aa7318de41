import { loadConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/config.ts';

/** The shared secret of every test config (HS256 unless GATEHOUSE_JWT_ALG says otherwise). */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** A Config as the server would load it, on an in-memory SQLite store unless told otherwise. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
    GATEHOUSE_JWT_SECRET: TEST_JWT_SECRET,
    GATEHOUSE_RATE_LIMIT_TOKEN: '0',
    GATEHOUSE_RATE_LIMIT_REGISTER: '0',
    ...env,
  });
}

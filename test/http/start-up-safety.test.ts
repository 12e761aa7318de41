import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { startServer } from '../../src/serve.ts';

// CWE-1188: the development secret is kept in the database; a server reachable from other
// machines must not sign with it. The refusal comes before the store is opened or a port bound.

/** The settings of a server on `host` with an in-memory store and no signing secret. */
const withoutSecret = (host: string, extra: Record<string, string>) =>
  loadConfig({ HOST: host, PORT: '0', GATEHOUSE_DATABASE_URL: 'sqlite::memory:', ...extra });

describe('start-up with the development signing secret', () => {
  it('refuses to listen on 0.0.0.0 without GATEHOUSE_JWT_SECRET, saying what to set', async () => {
    const config = withoutSecret('0.0.0.0', { GATEHOUSE_JWT_ALG: 'HS256' });
    await assert.rejects(startServer(config), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /HOST=0\.0\.0\.0/);
      assert.match(error.message, /GATEHOUSE_JWT_SECRET/);
      return true;
    });
  });

  it('still starts on loopback without a secret (the zero-setup default)', async () => {
    const config = withoutSecret('127.0.0.1', { GATEHOUSE_LOG_LEVEL: 'silent' });
    const server = await startServer(config);
    try {
      const response = await fetch(`${server.url}/healthz`);
      assert.equal(response.status, 200);
    } finally {
      await server.close();
    }
  });
});

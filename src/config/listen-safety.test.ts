import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertSafeToListen, isLoopbackHost } from './listen-safety.ts';
import { ConfigError, loadConfig } from './load-config.ts';

const SECRET = 'kq3Zr8vX2mPw9LsT4nYb7HcJ5dFg1AeU6oRi0NtVxQ';

describe('assertSafeToListen: the development secret stays on loopback', () => {
  it('tells loopback addresses from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'gatehouse.internal', '']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it('refuses a non-loopback HOST without GATEHOUSE_JWT_SECRET under HS256, saying what to set', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5']) {
      const config = loadConfig({ HOST: host, GATEHOUSE_JWT_ALG: 'HS256' });
      assert.throws(
        () => assertSafeToListen(config),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.length === 1 &&
          error.message.includes(`HOST=${host}`) &&
          /Set GATEHOUSE_JWT_SECRET \(generate one with: openssl rand/.test(error.message) &&
          error.message.includes('HOST=127.0.0.1'),
      );
    }
  });

  it('refuses a non-loopback HOST with unencrypted asymmetric keys, saying what to set', () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256']) {
      const config = loadConfig({ HOST: '0.0.0.0', GATEHOUSE_JWT_ALG: alg });
      assert.throws(
        () => assertSafeToListen(config),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.includes(`private ${alg} signing key would be kept unencrypted`) &&
          /Set GATEHOUSE_KEY_ENCRYPTION_KEY \(generate one with: openssl rand -base64 32\)/.test(
            error.message,
          ),
      );
    }
    assert.doesNotThrow(() =>
      assertSafeToListen(
        loadConfig({ HOST: '0.0.0.0', GATEHOUSE_KEY_ENCRYPTION_KEY: 'a'.repeat(64) }),
      ),
    );
  });

  it('lets the development secret serve loopback, and a configured secret serve anywhere', () => {
    assert.doesNotThrow(() => assertSafeToListen(loadConfig({ GATEHOUSE_JWT_ALG: 'HS256' })));
    assert.doesNotThrow(() => assertSafeToListen(loadConfig({})));
    assert.doesNotThrow(() => assertSafeToListen(loadConfig({ HOST: '::1' })));
    assert.doesNotThrow(() =>
      assertSafeToListen(loadConfig({ HOST: '0.0.0.0', GATEHOUSE_JWT_SECRET: SECRET })),
    );
  });
});

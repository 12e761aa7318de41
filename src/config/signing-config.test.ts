import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from './load-config.ts';

const GOOD_SECRET = 'kq3Zr8vX2mPw9LsT4nYb7HcJ5dFg1AeU6oRi0NtVxQ';
const KEY = randomBytes(32);

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: GATEHOUSE_JWT_ALG (API.md 7)', () => {
  it('defaults to HS256 with a shared secret and to EdDSA without one', () => {
    assert.equal(loadConfig({ GATEHOUSE_JWT_SECRET: GOOD_SECRET }).tokens.algorithm, 'HS256');
    assert.equal(loadConfig({}).tokens.algorithm, 'EdDSA');
  });

  it('takes EdDSA, ES256, RS256 and HS256, and refuses anything else by name', () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256', 'HS256']) {
      assert.equal(loadConfig({ GATEHOUSE_JWT_ALG: alg }).tokens.algorithm, alg);
    }
    for (const alg of ['none', 'HS512', 'eddsa', 'PS256']) {
      const [problem] = problems({ GATEHOUSE_JWT_ALG: alg });
      assert.match(
        problem ?? '',
        /^GATEHOUSE_JWT_ALG=.*expected one of EdDSA, ES256, RS256, HS256/,
      );
    }
  });

  it('needs no shared secret in production with an asymmetric algorithm and an encryption key', () => {
    const config = loadConfig({
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_KEY_ENCRYPTION_KEY: KEY.toString('base64'),
    });
    assert.equal(config.tokens.algorithm, 'EdDSA');
    assert.equal(config.tokens.secret, undefined);
  });
});

describe('loadConfig: GATEHOUSE_KEY_ENCRYPTION_KEY', () => {
  it('reads 32 bytes as base64, base64url or hex, and keeps them secret', () => {
    for (const spelling of [
      KEY.toString('base64'),
      KEY.toString('base64url'),
      KEY.toString('hex'),
      KEY.toString('hex').toUpperCase(),
    ]) {
      const config = loadConfig({ GATEHOUSE_KEY_ENCRYPTION_KEY: spelling });
      assert.equal(config.tokens.keyEncryptionKey?.reveal(), KEY.toString('hex'));
      assert.ok(!inspect(config).includes(KEY.toString('hex')));
      assert.ok(!JSON.stringify(config).includes(KEY.toString('hex')));
    }
  });

  it('refuses a malformed key, naming the variable and the expected format, never the value', () => {
    for (const bad of [
      'short',
      randomBytes(16).toString('base64'),
      randomBytes(48).toString('base64'),
      'z'.repeat(64),
      `${KEY.toString('base64')}!`,
    ]) {
      const [problem = ''] = problems({ GATEHOUSE_KEY_ENCRYPTION_KEY: bad });
      assert.match(problem, /^GATEHOUSE_KEY_ENCRYPTION_KEY: expected 32 random bytes as base64/);
      assert.match(problem, /openssl rand -base64 32/);
      assert.ok(!problem.includes(bad));
    }
  });

  it('is required in production with an asymmetric algorithm, saying how to make one', () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256']) {
      const found = problems({
        GATEHOUSE_ENV: 'production',
        GATEHOUSE_JWT_ALG: alg,
        GATEHOUSE_JWT_SECRET: GOOD_SECRET,
      });
      assert.equal(found.length, 1);
      assert.match(
        found[0] ?? '',
        /^GATEHOUSE_KEY_ENCRYPTION_KEY: required when GATEHOUSE_ENV=production/,
      );
      assert.match(found[0] ?? '', /openssl rand -base64 32/);
    }
    // HS256 deployments keep working unchanged: nothing to encrypt.
    assert.doesNotThrow(() =>
      loadConfig({ GATEHOUSE_ENV: 'production', GATEHOUSE_JWT_SECRET: GOOD_SECRET }),
    );
  });
});

describe('loadConfig: GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS (changing the key)', () => {
  const PREVIOUS = randomBytes(32);

  it('reads the previous key like the current one, and keeps it secret', () => {
    for (const spelling of [PREVIOUS.toString('base64'), PREVIOUS.toString('hex')]) {
      const config = loadConfig({
        GATEHOUSE_KEY_ENCRYPTION_KEY: KEY.toString('base64'),
        GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: spelling,
      });
      assert.equal(config.tokens.keyEncryptionKeyPrevious?.reveal(), PREVIOUS.toString('hex'));
      assert.ok(!inspect(config).includes(PREVIOUS.toString('hex')));
      assert.ok(!JSON.stringify(config).includes(PREVIOUS.toString('hex')));
    }
    assert.equal(loadConfig({}).tokens.keyEncryptionKeyPrevious, undefined);
  });

  it('refuses a malformed previous key, never printing it', () => {
    const bad = randomBytes(16).toString('base64');
    const [problem = ''] = problems({
      GATEHOUSE_KEY_ENCRYPTION_KEY: KEY.toString('base64'),
      GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: bad,
    });
    assert.match(
      problem,
      /^GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: expected 32 random bytes as base64/,
    );
    assert.ok(!problem.includes(bad));
  });

  it('refuses the previous key without a current one, or equal to it (in any spelling)', () => {
    const [alone = ''] = problems({
      GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: PREVIOUS.toString('base64'),
    });
    assert.match(
      alone,
      /^GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: set without GATEHOUSE_KEY_ENCRYPTION_KEY/,
    );
    const [same = ''] = problems({
      GATEHOUSE_KEY_ENCRYPTION_KEY: KEY.toString('base64'),
      GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: KEY.toString('hex'),
    });
    assert.match(same, /^GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: is GATEHOUSE_KEY_ENCRYPTION_KEY/);
  });
});

describe('loadConfig: GATEHOUSE_KEY_ROTATION_DAYS and the issuer', () => {
  it('rotates every 90 days by default, 0 meaning never', () => {
    assert.equal(loadConfig({}).tokens.keyRotationDays, 90);
    assert.equal(loadConfig({ GATEHOUSE_KEY_ROTATION_DAYS: '0' }).tokens.keyRotationDays, 0);
    assert.match(problems({ GATEHOUSE_KEY_ROTATION_DAYS: '-1' })[0] ?? '', /ROTATION_DAYS/);
  });

  it('issues as the public URL, else http://HOST:PORT, unless GATEHOUSE_JWT_ISSUER says otherwise', () => {
    assert.equal(loadConfig({}).tokens.issuer, 'http://127.0.0.1:8000');
    assert.equal(loadConfig({ HOST: '::1', PORT: '9000' }).tokens.issuer, 'http://[::1]:9000');
    assert.equal(
      loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://auth.example.com/' }).tokens.issuer,
      'https://auth.example.com',
    );
    assert.equal(
      loadConfig({
        GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
        GATEHOUSE_JWT_ISSUER: 'gatehouse',
      }).tokens.issuer,
      'gatehouse',
    );
  });
});

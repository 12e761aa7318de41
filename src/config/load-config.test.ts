import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { format, inspect } from 'node:util';
import { ConfigError, loadConfig } from './load-config.ts';
import { Secret } from './secret.ts';

const GOOD_SECRET = 'kq3Zr8vX2mPw9LsT4nYb7HcJ5dFg1AeU6oRi0NtVxQ';
// The key published in FastAPI's OAuth2/JWT tutorial, which copies of it tend to ship.
const FASTAPI_TUTORIAL_KEY = '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7';

/** Runs loadConfig on `env` and returns the ConfigError it must throw. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error.problems.length > 0);
    assert.equal(error.message.split('\n  - ').length - 1, error.problems.length);
    return error;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: defaults', () => {
  it('uses the defaults of API.md 6 when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.port, 8000);
    assert.equal(config.env, 'development');
    assert.equal(config.storage.databaseUrl, 'sqlite:./gatehouse.db');
    assert.equal(config.storage.redisUrl, undefined);
    assert.equal(config.tokens.secret, undefined);
    assert.equal(config.tokens.accessTtl, 1800);
    assert.equal(config.tokens.refreshTtl, 1_209_600);
    assert.equal(config.tokens.refreshReuseGrace, 0);
    assert.equal(config.rateLimits.token, 20);
    assert.equal(config.rateLimits.register, 10);
    assert.equal(config.rateLimits.refresh, 120);
    assert.equal(config.passwords.minLength, 8);
    assert.equal(config.bootstrapAdmin, undefined);
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PORT: '', GATEHOUSE_ENV: '', GATEHOUSE_JWT_SECRET: '' });
    assert.equal(config.http.port, 8000);
    assert.equal(config.env, 'development');
    assert.equal(config.tokens.secret, undefined);
  });

  it('reads every variable of API.md 6', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_DATABASE_URL: 'postgres://gatehouse@db.internal/gatehouse',
      GATEHOUSE_REDIS_URL: 'redis://cache.internal:6379',
      GATEHOUSE_JWT_SECRET: GOOD_SECRET,
      GATEHOUSE_ACCESS_TOKEN_TTL: '600',
      GATEHOUSE_REFRESH_TOKEN_TTL: '86400',
      GATEHOUSE_REFRESH_REUSE_GRACE: '10',
      GATEHOUSE_RATE_LIMIT_TOKEN: '0',
      GATEHOUSE_RATE_LIMIT_REGISTER: '5',
      GATEHOUSE_RATE_LIMIT_REFRESH: '30',
      GATEHOUSE_PASSWORD_MIN_LENGTH: '12',
      GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
      GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-password-1',
    });
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.http.port, 9000);
    assert.equal(config.env, 'production');
    assert.equal(config.storage.databaseUrl, 'postgres://gatehouse@db.internal/gatehouse');
    assert.equal(config.storage.redisUrl, 'redis://cache.internal:6379');
    assert.equal(config.tokens.secret?.reveal(), GOOD_SECRET);
    assert.equal(config.tokens.accessTtl, 600);
    assert.equal(config.tokens.refreshTtl, 86_400);
    assert.equal(config.tokens.refreshReuseGrace, 10);
    assert.equal(config.rateLimits.token, 0);
    assert.equal(config.rateLimits.register, 5);
    assert.equal(config.rateLimits.refresh, 30);
    assert.equal(config.passwords.minLength, 12);
    assert.equal(config.bootstrapAdmin?.email, 'root@example.com');
    assert.equal(config.bootstrapAdmin?.password.reveal(), 'bootstrap-password-1');
  });

  it('accepts sqlite::memory: and postgresql:// database URLs', () => {
    assert.equal(
      loadConfig({ GATEHOUSE_DATABASE_URL: 'sqlite::memory:' }).storage.databaseUrl,
      'sqlite::memory:',
    );
    const pg = 'postgresql://u@h/db';
    assert.equal(loadConfig({ GATEHOUSE_DATABASE_URL: pg }).storage.databaseUrl, pg);
  });
});

describe('loadConfig: bad values', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['a port that is not a number', { PORT: 'abc' }, /PORT="abc"/],
    ['a port past 65535', { PORT: '70000' }, /PORT="70000"/],
    [
      'a negative access-token lifetime',
      { GATEHOUSE_ACCESS_TOKEN_TTL: '-1' },
      /GATEHOUSE_ACCESS_TOKEN_TTL="-1"/,
    ],
    ['a fractional lifetime', { GATEHOUSE_ACCESS_TOKEN_TTL: '1.5' }, /GATEHOUSE_ACCESS_TOKEN_TTL/],
    [
      'an unknown environment name',
      { GATEHOUSE_ENV: 'prod' },
      /GATEHOUSE_ENV="prod".*development, production/,
    ],
    [
      'a MySQL database URL',
      { GATEHOUSE_DATABASE_URL: 'mysql://root@localhost/gatehouse' },
      /GATEHOUSE_DATABASE_URL/,
    ],
    [
      'a Redis URL of another scheme',
      { GATEHOUSE_REDIS_URL: 'http://cache:6379' },
      /GATEHOUSE_REDIS_URL/,
    ],
    [
      'a minimum password length below 8',
      { GATEHOUSE_PASSWORD_MIN_LENGTH: '4' },
      /GATEHOUSE_PASSWORD_MIN_LENGTH/,
    ],
    [
      'a bootstrap admin email without a password',
      { GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com' },
      /GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD/,
    ],
  ];
  for (const [what, env, named] of cases) {
    it(`refuses ${what}, naming the variable`, () => {
      const error = configError(env);
      assert.equal(error.problems.length, 1);
      assert.match(error.message, named);
    });
  }

  it('says what a good value looks like', () => {
    assert.match(configError({ PORT: '70000' }).message, /whole number from 0 to 65535/);
    assert.match(
      configError({ GATEHOUSE_DATABASE_URL: 'mysql://root@localhost/gatehouse' }).message,
      /sqlite:PATH.*postgres:\/\//,
    );
  });

  it('lists every problem at once', () => {
    const error = configError({
      PORT: 'abc',
      GATEHOUSE_ACCESS_TOKEN_TTL: '-1',
      GATEHOUSE_ENV: 'prod',
      GATEHOUSE_DATABASE_URL: 'mysql://root@localhost/gatehouse',
    });
    assert.equal(error.problems.length, 4);
    for (const name of [
      'PORT',
      'GATEHOUSE_ACCESS_TOKEN_TTL',
      'GATEHOUSE_ENV',
      'GATEHOUSE_DATABASE_URL',
    ]) {
      assert.ok(
        error.problems.some((problem) => problem.startsWith(name)),
        `${name} is listed`,
      );
      assert.match(error.message, new RegExp(`^  - ${name}`, 'm'));
    }
  });
});

describe('loadConfig: the production signing secret', () => {
  it('refuses production HS256 without GATEHOUSE_JWT_SECRET and says what to set', () => {
    const error = configError({ GATEHOUSE_ENV: 'production', GATEHOUSE_JWT_ALG: 'HS256' });
    assert.equal(error.problems.length, 1);
    assert.match(error.message, /GATEHOUSE_JWT_SECRET/);
    assert.match(error.message, /required when GATEHOUSE_ENV=production/);
    assert.match(error.message, /openssl rand/);
  });

  it('refuses a secret shorter than 256 bits and says how long it must be', () => {
    const short = 'too-short-secret-0123456789';
    for (const env of ['production', 'development']) {
      const error = configError({ GATEHOUSE_ENV: env, GATEHOUSE_JWT_SECRET: short });
      assert.match(error.message, /GATEHOUSE_JWT_SECRET: must have at least 32 characters/);
      assert.match(error.message, /openssl rand/);
      assert.ok(!error.message.includes(short), 'the error never repeats the secret');
    }
  });

  it('refuses the key published in the FastAPI tutorial', () => {
    const error = configError({
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_JWT_SECRET: FASTAPI_TUTORIAL_KEY,
    });
    assert.match(error.message, /GATEHOUSE_JWT_SECRET/);
    assert.match(error.message, /published example/);
    assert.match(error.message, /openssl rand/);
    assert.ok(!error.message.includes(FASTAPI_TUTORIAL_KEY), 'the error never repeats the secret');
  });

  it('refuses a long secret with repeated characters, a short repeated pattern or a tiny alphabet', () => {
    const guessable = [
      'a'.repeat(32),
      '0'.repeat(64),
      'ab'.repeat(20),
      'password'.repeat(4),
      '0123456789'.repeat(4),
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefghijk',
    ];
    for (const secret of guessable) {
      for (const env of ['production', 'development']) {
        const error = configError({ GATEHOUSE_ENV: env, GATEHOUSE_JWT_SECRET: secret });
        assert.equal(error.problems.length, 1, secret);
        assert.match(error.message, /GATEHOUSE_JWT_SECRET: is guessable \(it [^)]+\)/, secret);
        assert.match(error.message, /openssl rand/);
        assert.ok(!error.message.includes(secret), 'the error never repeats the secret');
      }
    }
    assert.match(
      configError({ GATEHOUSE_JWT_SECRET: 'a'.repeat(32) }).message,
      /uses only 1 distinct character/,
    );
    assert.match(
      configError({ GATEHOUSE_JWT_SECRET: 'qwertyuiop'.repeat(4) }).message,
      /repeats the same 10 characters/,
    );
  });

  it('accepts random secrets as openssl rand writes them, base64 or hex', () => {
    for (let i = 0; i < 200; i++) {
      for (const secret of [
        randomBytes(48).toString('base64'),
        randomBytes(32).toString('hex'),
        randomBytes(16).toString('hex'),
        randomBytes(24).toString('base64url'),
      ]) {
        assert.equal(loadConfig({ GATEHOUSE_JWT_SECRET: secret }).tokens.secret?.reveal(), secret);
      }
    }
  });

  it('starts production with a long random secret', () => {
    const config = loadConfig({ GATEHOUSE_ENV: 'production', GATEHOUSE_JWT_SECRET: GOOD_SECRET });
    assert.equal(config.env, 'production');
    assert.ok(config.tokens.secret instanceof Secret);
    assert.equal(config.tokens.secret.reveal(), GOOD_SECRET);
  });

  it('lets development start without a secret (one is generated and stored)', () => {
    assert.equal(loadConfig({ GATEHOUSE_ENV: 'development' }).tokens.secret, undefined);
  });
});

describe('loadConfig: /metrics exposure', () => {
  it('serves /metrics by default in development only', () => {
    assert.equal(loadConfig({}).metrics.enabled, true);
    const production = { GATEHOUSE_ENV: 'production', GATEHOUSE_JWT_SECRET: GOOD_SECRET };
    assert.equal(loadConfig(production).metrics.enabled, false);
    assert.equal(loadConfig({ ...production, GATEHOUSE_METRICS: 'true' }).metrics.enabled, true);
  });

  it('keeps GATEHOUSE_METRICS_TOKEN secret and refuses a short or guessable one', () => {
    const config = loadConfig({ GATEHOUSE_METRICS_TOKEN: GOOD_SECRET });
    assert.equal(config.metrics.token?.reveal(), GOOD_SECRET);
    assert.equal(inspect(config.metrics.token), '[redacted]');
    for (const weak of ['short-token', 'm'.repeat(40)]) {
      const error = configError({ GATEHOUSE_METRICS_TOKEN: weak });
      assert.match(error.message, /GATEHOUSE_METRICS_TOKEN: is guessable/);
      assert.ok(!error.message.includes(weak));
    }
  });
});

describe('loadConfig: the result', () => {
  const withBootstrap = {
    GATEHOUSE_JWT_SECRET: GOOD_SECRET,
    GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
    GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-password-1',
  };

  it('is deep-frozen', () => {
    const config = loadConfig(withBootstrap);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.passwords.argon2));
    assert.ok(Object.isFrozen(config.bootstrapAdmin));
    assert.ok(Object.isFrozen(config.tokens.secret));
    // ESM is strict mode: writing to a frozen object throws instead of failing silently.
    assert.throws(() => {
      (config.http as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.passwords.argon2 as { memoryCost: number }).memoryCost = 1;
    }, TypeError);
    assert.throws(() => {
      (config.bootstrapAdmin as { email: string }).email = 'attacker@example.com';
    }, TypeError);
    assert.equal(config.http.port, 8000);
    assert.equal(config.passwords.argon2.memoryCost, 19456);
    assert.equal(config.bootstrapAdmin?.email, 'root@example.com');
  });

  it('prints secrets as [redacted] in JSON, String() and util.inspect', () => {
    const config = loadConfig(withBootstrap);
    const secret = config.tokens.secret;
    assert.ok(secret);
    assert.equal(JSON.stringify(secret), '"[redacted]"');
    assert.equal(String(secret), '[redacted]');
    assert.equal(`${secret}`, '[redacted]');
    assert.equal(inspect(secret), '[redacted]');
    assert.equal(
      format('%s %o %O %j', secret, secret, secret, secret),
      '[redacted] [redacted] [redacted] "[redacted]"',
    );

    const printed = [
      JSON.stringify(config),
      inspect(config, { depth: null }),
      format('%o', config),
    ];
    for (const text of printed) {
      assert.ok(!text.includes(GOOD_SECRET), 'the JWT secret never prints');
      assert.ok(!text.includes('bootstrap-password-1'), 'the bootstrap password never prints');
      assert.match(text, /\[redacted\]/);
    }
    assert.equal(JSON.parse(JSON.stringify(config)).tokens.secret, '[redacted]');
    assert.equal(JSON.parse(JSON.stringify(config)).bootstrapAdmin.password, '[redacted]');
  });
});

describe('loadConfig: GATEHOUSE_PUBLIC_URL', () => {
  it('is unset by default: the origin of each request counts', () => {
    assert.equal(loadConfig({}).http.publicUrl, undefined);
  });

  it('keeps an absolute http(s) URL, without a trailing slash', () => {
    assert.equal(
      loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://auth.example.com' }).http.publicUrl,
      'https://auth.example.com',
    );
    assert.equal(
      loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://Auth.Example.com:8443/' }).http.publicUrl,
      'https://auth.example.com:8443',
    );
    assert.equal(
      loadConfig({ GATEHOUSE_PUBLIC_URL: 'http://localhost:8000/gatehouse/' }).http.publicUrl,
      'http://localhost:8000/gatehouse',
    );
  });

  it('refuses anything but an absolute http(s) URL without query, fragment or credentials', () => {
    for (const bad of [
      'auth.example.com',
      '/token',
      'ftp://auth.example.com',
      'javascript:alert(1)',
      'https://auth.example.com/?x=1',
      'https://auth.example.com/?',
      'https://auth.example.com/#top',
      'https://user:pass@auth.example.com',
      'https://',
    ]) {
      const error = configError({ GATEHOUSE_PUBLIC_URL: bad });
      assert.equal(error.problems.length, 1, bad);
      assert.match(error.problems[0]!, /^GATEHOUSE_PUBLIC_URL=.*https:\/\/auth\.example\.com/, bad);
    }
  });
});

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { OWASP_ARGON2_PARAMETERS } from '../domain/passwords/argon2-parameters.ts';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../domain/tokens/signing-algorithm.ts';
import type { Config, Environment, LogLevel } from './config.ts';
import { readMailConfig } from './mail-config.ts';
import { publicBaseUrl } from './public-base-url.ts';
import { Secret } from './secret.ts';
import { guessableSecretReason } from './secret-strength.ts';

/** Start-up refuses a bad configuration with every problem listed at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

// Secrets that appear in tutorials and templates: never acceptable in production.
const KNOWN_DEFAULT_SECRETS = new Set([
  '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7', // FastAPI's tutorial key
  'secret',
  'changeme',
  'change-me',
  'your-secret-key',
  'supersecret',
]);
// RFC 7518 3.2: an HS256 key must have at least 256 bits.
const MIN_SECRET_LENGTH = 32;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name];
    return raw === undefined || raw === '' ? fallback : raw;
  }

  optional(name: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(
        `${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`,
      );
      return fallback;
    }
    return value;
  }

  choice<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * GATEHOUSE_TRUST_PROXY: who may set X-Forwarded-For, which decides the client IP that rate
 * limits count. `false` (default), `true` (every hop: only when the proxy overwrites the
 * header), or the proxies' addresses / CIDRs / loopback, linklocal, uniquelocal.
 */
function readTrustProxy(read: Reader): boolean | string {
  const raw = read.optional('GATEHOUSE_TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    // Fastify ignores a bare hop count (it can't tell a proxy from a client that way), which
    // would silently trust nothing: say so instead.
    read.problems.push(
      `GATEHOUSE_TRUST_PROXY=${raw}: hop counts are not supported; list the proxy's addresses or CIDRs (e.g. 10.0.0.0/8,loopback), or true if the proxy overwrites X-Forwarded-For`,
    );
    return false;
  }
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const prefixOk =
      prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (!PROXY_KEYWORDS.has(entry) && (family === 0 || !prefixOk || extra !== undefined)) {
      read.problems.push(
        `GATEHOUSE_TRUST_PROXY: ${JSON.stringify(entry)} is not an address, CIDR or one of loopback, linklocal, uniquelocal; expected true, false or a comma-separated list like 10.0.0.0/8,loopback`,
      );
    }
  }
  return raw;
}

/**
 * GATEHOUSE_CORS_ORIGINS: comma-separated origins (`https://app.example.com`), each exactly as
 * a browser sends it in `Origin`. No `*`: an auth API names the sites it trusts.
 */
function readCorsOrigins(read: Reader): string[] {
  const raw = read.optional('GATEHOUSE_CORS_ORIGINS');
  if (raw === undefined) return [];
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      canonical = /^https?:$/.test(url.protocol) ? url.origin : undefined;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin) {
      read.problems.push(
        `GATEHOUSE_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin; expected a comma-separated list like https://app.example.com,http://localhost:5173 (scheme, lower-case host and port only; no path, no *)`,
      );
    }
  }
  return origins;
}

/**
 * GATEHOUSE_PUBLIC_URL: where browsers reach this server (`https://auth.example.com`), when a
 * proxy stands in between. An absolute http(s) URL without query, fragment or credentials; kept
 * without a trailing slash, so links and the issuer can be built by appending a path.
 */
function readPublicUrl(read: Reader): string | undefined {
  const raw = read.optional('GATEHOUSE_PUBLIC_URL');
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  const acceptable =
    url !== undefined &&
    /^https?:$/.test(url.protocol) &&
    url.hostname !== '' &&
    url.username === '' &&
    url.password === '' &&
    !raw.includes('?') &&
    !raw.includes('#');
  if (!url || !acceptable) {
    read.problems.push(
      `GATEHOUSE_PUBLIC_URL=${JSON.stringify(raw)}: expected the absolute http(s) URL browsers use to reach Gatehouse, like https://auth.example.com (no query, fragment or user:password)`,
    );
    return undefined;
  }
  return url.href.replace(/\/$/, '');
}

/** GATEHOUSE_METRICS_TOKEN: the bearer token Prometheus must send for GET /metrics, if any. */
function readMetricsToken(read: Reader): Secret | undefined {
  const raw = read.optional('GATEHOUSE_METRICS_TOKEN');
  if (raw === undefined) return undefined;
  const weakness =
    raw.length < MIN_SECRET_LENGTH
      ? `has fewer than ${MIN_SECRET_LENGTH} characters`
      : guessableSecretReason(raw);
  if (weakness !== undefined) {
    read.problems.push(
      `GATEHOUSE_METRICS_TOKEN: is guessable (it ${weakness}); generate one with: openssl rand -base64 32`,
    );
  }
  return new Secret(raw);
}

const GENERATE_KEY_ENCRYPTION_KEY = 'generate one with: openssl rand -base64 32';

/**
 * GATEHOUSE_KEY_ENCRYPTION_KEY: the AES-256-GCM key sealing private signing keys at rest
 * (API.md 7): 32 random bytes as 64 hex digits or base64/base64url. Kept as hex.
 */
function readKeyEncryptionKey(read: Reader): Secret | undefined {
  const raw = read.optional('GATEHOUSE_KEY_ENCRYPTION_KEY');
  if (raw === undefined) return undefined;
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) bytes = Buffer.from(raw, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(raw)) bytes = Buffer.from(raw, 'base64');
  if (bytes?.length !== 32) {
    // Never the value itself: it is a secret, however malformed.
    read.problems.push(
      `GATEHOUSE_KEY_ENCRYPTION_KEY: expected 32 random bytes as base64 (44 characters) or 64 hex digits; ${GENERATE_KEY_ENCRYPTION_KEY}`,
    );
    return undefined;
  }
  return new Secret(bytes.toString('hex'));
}

/** Reads API.md 6's variables (and a few operational extras) into one frozen Config. */
export function loadConfig(env: Env): Config {
  const read = new Reader(env);
  const envName = read.choice<Environment>('GATEHOUSE_ENV', 'development', [
    'development',
    'production',
  ]);
  const production = envName === 'production';

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

  const rawSecret = read.optional('GATEHOUSE_JWT_SECRET');
  const guessable = rawSecret === undefined ? undefined : guessableSecretReason(rawSecret);
  if (rawSecret !== undefined && rawSecret.length < MIN_SECRET_LENGTH) {
    read.problems.push(
      `GATEHOUSE_JWT_SECRET: must have at least ${MIN_SECRET_LENGTH} characters (256 bits); generate one with: openssl rand -base64 48`,
    );
  } else if (rawSecret !== undefined && KNOWN_DEFAULT_SECRETS.has(rawSecret)) {
    read.problems.push(
      'GATEHOUSE_JWT_SECRET: is a published example value; generate one with: openssl rand -base64 48',
    );
  } else if (guessable !== undefined) {
    read.problems.push(
      `GATEHOUSE_JWT_SECRET: is guessable (it ${guessable}); use random bytes, e.g. generate one with: openssl rand -base64 48`,
    );
  }
  // API.md 7: HS256 when a shared secret is configured (existing deployments keep working).
  const jwtAlgorithm = read.choice<SigningAlgorithm>(
    'GATEHOUSE_JWT_ALG',
    rawSecret === undefined ? 'EdDSA' : 'HS256',
    SIGNING_ALGORITHMS,
  );
  if (rawSecret === undefined && production && jwtAlgorithm === 'HS256') {
    read.problems.push(
      'GATEHOUSE_JWT_SECRET: required when GATEHOUSE_ENV=production and GATEHOUSE_JWT_ALG=HS256 (at least 32 random characters; generate one with: openssl rand -base64 48)',
    );
  }
  const keyEncryptionKey = readKeyEncryptionKey(read);
  if (
    production &&
    jwtAlgorithm !== 'HS256' &&
    keyEncryptionKey === undefined &&
    read.optional('GATEHOUSE_KEY_ENCRYPTION_KEY') === undefined
  ) {
    read.problems.push(
      `GATEHOUSE_KEY_ENCRYPTION_KEY: required when GATEHOUSE_ENV=production with GATEHOUSE_JWT_ALG=${jwtAlgorithm}, to encrypt the private signing keys kept in the store (32 random bytes; ${GENERATE_KEY_ENCRYPTION_KEY})`,
    );
  }

  const bootstrapEmail = read.optional('GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL');
  const bootstrapPassword = read.optional('GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD');
  if ((bootstrapEmail === undefined) !== (bootstrapPassword === undefined)) {
    read.problems.push(
      'GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD: set both or neither',
    );
  }

  const trustProxy = readTrustProxy(read);
  const host = read.string('HOST', '127.0.0.1');
  const port = read.integer('PORT', 8000, 0, 65535);
  const publicUrl = readPublicUrl(read);

  const config: Config = {
    env: envName,
    logLevel: read.choice<LogLevel>('GATEHOUSE_LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ]),
    workers: read.integer('GATEHOUSE_WORKERS', 1, 1, 64),
    http: {
      host,
      port,
      publicUrl,
      bodyLimit: read.integer('GATEHOUSE_BODY_LIMIT', 16_384, 1024, 10_485_760),
      trustProxy,
      corsOrigins: readCorsOrigins(read),
    },
    storage: {
      databaseUrl,
      poolSize: read.integer('GATEHOUSE_DATABASE_POOL_SIZE', 10, 1, 1000),
      sqliteSynchronous: read.choice('GATEHOUSE_SQLITE_SYNCHRONOUS', 'full', ['full', 'normal']),
      redisUrl,
      redisKeyPrefix: read.string('GATEHOUSE_REDIS_KEY_PREFIX', 'gatehouse:'),
    },
    tokens: {
      secret: rawSecret === undefined ? undefined : new Secret(rawSecret),
      algorithm: jwtAlgorithm,
      keyEncryptionKey,
      keyRotationDays: read.integer('GATEHOUSE_KEY_ROTATION_DAYS', 90, 0, 3650),
      // API.md 7: `iss` equals the metadata's `issuer`, the public URL by default.
      issuer: read.string('GATEHOUSE_JWT_ISSUER', publicBaseUrl({ publicUrl, host, port })),
      audience: read.string('GATEHOUSE_JWT_AUDIENCE', 'gatehouse'),
      clockToleranceSeconds: read.integer('GATEHOUSE_CLOCK_TOLERANCE', 5, 0, 300),
      accessTtl: read.integer('GATEHOUSE_ACCESS_TOKEN_TTL', 1800, 1, 86_400 * 7),
      refreshTtl: read.integer('GATEHOUSE_REFRESH_TOKEN_TTL', 1_209_600, 60, 86_400 * 365),
      refreshReuseGrace: read.integer('GATEHOUSE_REFRESH_REUSE_GRACE', 0, 0, 300),
    },
    passwords: {
      minLength: read.integer('GATEHOUSE_PASSWORD_MIN_LENGTH', 8, 8, 128),
      argon2: {
        // OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1 (one source: the
        // domain's constant, which its tests use too).
        memoryCost: read.integer(
          'GATEHOUSE_ARGON2_MEMORY_KIB',
          OWASP_ARGON2_PARAMETERS.memoryCost,
          1024,
          1_048_576,
        ),
        timeCost: read.integer(
          'GATEHOUSE_ARGON2_ITERATIONS',
          OWASP_ARGON2_PARAMETERS.timeCost,
          1,
          20,
        ),
        parallelism: read.integer(
          'GATEHOUSE_ARGON2_PARALLELISM',
          OWASP_ARGON2_PARAMETERS.parallelism,
          1,
          16,
        ),
      },
      hashConcurrency: read.integer('GATEHOUSE_HASH_CONCURRENCY', availableParallelism(), 1, 256),
      hashQueueLimit: read.integer('GATEHOUSE_HASH_QUEUE_LIMIT', 256, 0, 100_000),
    },
    rateLimits: {
      token: read.integer('GATEHOUSE_RATE_LIMIT_TOKEN', 20, 0, 1_000_000),
      register: read.integer('GATEHOUSE_RATE_LIMIT_REGISTER', 10, 0, 1_000_000),
      refresh: read.integer('GATEHOUSE_RATE_LIMIT_REFRESH', 120, 0, 1_000_000),
    },
    loginThrottle: {
      // ASVS 2.2.1 / NIST 800-63B 5.2.2: five tries, then 1 s doubling up to 15 min (what an
      // attacker can hold a victim's account for after each guess); forgotten after a quiet day.
      failuresBeforeLock: read.integer('GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK', 5, 1, 1000),
      firstLockSeconds: read.integer('GATEHOUSE_LOGIN_FIRST_LOCK', 1, 1, 3600),
      maxLockSeconds: read.integer('GATEHOUSE_LOGIN_MAX_LOCK', 900, 1, 86_400),
      forgetAfterSeconds: read.integer('GATEHOUSE_LOGIN_FORGET_AFTER', 86_400, 60, 86_400 * 30),
    },
    mailFlows: {
      requireVerifiedEmail:
        read.choice<'true' | 'false'>('GATEHOUSE_REQUIRE_VERIFIED_EMAIL', 'false', [
          'true',
          'false',
        ]) === 'true',
      // OWASP Forgot Password Cheat Sheet: reset tokens expire after a short time.
      resetTokenTtl: read.integer('GATEHOUSE_RESET_TOKEN_TTL', 1800, 60, 86_400),
      verifyTokenTtl: read.integer('GATEHOUSE_VERIFY_TOKEN_TTL', 86_400, 60, 86_400 * 30),
      resetRateLimitIp: read.integer('GATEHOUSE_RATE_LIMIT_PASSWORD_RESET', 5, 0, 1_000_000),
      resetRateLimitAddress: read.integer(
        'GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS',
        5,
        0,
        1_000_000,
      ),
    },
    mail: readMailConfig(read, publicUrl, production),
    metrics: {
      // ASVS 14.3 / CWE-200: the hashing queue and login-failure counters tell an attacker how
      // an attack is going; production exposes them only when asked (and ideally with a token).
      enabled:
        read.choice<'true' | 'false'>('GATEHOUSE_METRICS', production ? 'false' : 'true', [
          'true',
          'false',
        ]) === 'true',
      token: readMetricsToken(read),
    },
    bootstrapAdmin:
      bootstrapEmail !== undefined && bootstrapPassword !== undefined
        ? { email: bootstrapEmail, password: new Secret(bootstrapPassword) }
        : undefined,
  };

  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return deepFreeze(config);
}

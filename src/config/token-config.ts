import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../domain/tokens/signing-algorithm.ts';
import type { HttpConfig, TokenConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';
import { publicBaseUrl } from './public-base-url.ts';
import { Secret } from './secret.ts';
import { guessableSecretReason, MIN_SECRET_LENGTH } from './secret-strength.ts';

// Secrets that appear in tutorials and templates: never acceptable in production.
const KNOWN_DEFAULT_SECRETS = new Set([
  '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7', // FastAPI's tutorial key
  'secret',
  'changeme',
  'change-me',
  'your-secret-key',
  'supersecret',
]);

const GENERATE_KEY_ENCRYPTION_KEY = 'generate one with: openssl rand -base64 32';

/**
 * Reads the signing secret or algorithm and its key encryption key, and the tokens' claims and
 * lifetimes. `http` gives the default issuer (API.md 7).
 */
export function readTokenConfig(
  read: EnvReader,
  production: boolean,
  http: Pick<HttpConfig, 'publicUrl' | 'host' | 'port'>,
): TokenConfig {
  const rawSecret = readJwtSecret(read);
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
  const keyEncryptionKey = readKeyEncryptionKey(read, 'GATEHOUSE_KEY_ENCRYPTION_KEY');
  const keyEncryptionKeyPrevious = readPreviousKeyEncryptionKey(read, keyEncryptionKey);
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
  return {
    secret: rawSecret === undefined ? undefined : new Secret(rawSecret),
    algorithm: jwtAlgorithm,
    keyEncryptionKey,
    keyEncryptionKeyPrevious,
    keyRotationDays: read.integer('GATEHOUSE_KEY_ROTATION_DAYS', 90, 0, 3650),
    // API.md 7: `iss` equals the metadata's `issuer`, the public URL by default.
    issuer: read.string('GATEHOUSE_JWT_ISSUER', publicBaseUrl(http)),
    audience: read.string('GATEHOUSE_JWT_AUDIENCE', 'gatehouse'),
    clockToleranceSeconds: read.integer('GATEHOUSE_CLOCK_TOLERANCE', 5, 0, 300),
    accessTtl: read.integer('GATEHOUSE_ACCESS_TOKEN_TTL', 1800, 1, 86_400 * 7),
    refreshTtl: read.integer('GATEHOUSE_REFRESH_TOKEN_TTL', 1_209_600, 60, 86_400 * 365),
    refreshReuseGrace: read.integer('GATEHOUSE_REFRESH_REUSE_GRACE', 0, 0, 300),
  };
}

/**
 * GATEHOUSE_KEY_ENCRYPTION_KEY (or its _PREVIOUS): the AES-256-GCM key sealing private signing
 * keys and TOTP secrets at rest (API.md 7): 32 random bytes as 64 hex digits or
 * base64/base64url. Kept as hex.
 */
function readKeyEncryptionKey(
  read: EnvReader,
  name: 'GATEHOUSE_KEY_ENCRYPTION_KEY' | 'GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS',
): Secret | undefined {
  const raw = read.optional(name);
  if (raw === undefined) return undefined;
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) bytes = Buffer.from(raw, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(raw)) bytes = Buffer.from(raw, 'base64');
  if (bytes?.length !== 32) {
    // Never the value itself: it is a secret, however malformed.
    read.problems.push(
      `${name}: expected 32 random bytes as base64 (44 characters) or 64 hex digits; ${GENERATE_KEY_ENCRYPTION_KEY}`,
    );
    return undefined;
  }
  return new Secret(bytes.toString('hex'));
}

/**
 * GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: the key being replaced (ASVS 4.0 6.4.2, 5.0 V11.1: keys
 * can be rotated). It only opens; every new seal uses the current key, so it must come with one
 * and differ from it (the same key twice is a mistake in the change, not a change).
 */
function readPreviousKeyEncryptionKey(
  read: EnvReader,
  current: Secret | undefined,
): Secret | undefined {
  const previous = readKeyEncryptionKey(read, 'GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS');
  if (previous === undefined) return undefined;
  if (read.optional('GATEHOUSE_KEY_ENCRYPTION_KEY') === undefined) {
    read.problems.push(
      'GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: set without GATEHOUSE_KEY_ENCRYPTION_KEY; the previous key only opens what it sealed: set GATEHOUSE_KEY_ENCRYPTION_KEY to the new key as well',
    );
    return undefined;
  }
  if (current !== undefined && current.reveal() === previous.reveal()) {
    read.problems.push(
      'GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: is GATEHOUSE_KEY_ENCRYPTION_KEY itself; set it to the old key while changing keys, or unset it',
    );
    return undefined;
  }
  return previous;
}

/** GATEHOUSE_JWT_SECRET: the HS256 shared secret; a short, published or guessable one is a problem. */
function readJwtSecret(read: EnvReader): string | undefined {
  const raw = read.optional('GATEHOUSE_JWT_SECRET');
  if (raw === undefined) return undefined;
  const guessable = guessableSecretReason(raw);
  if (raw.length < MIN_SECRET_LENGTH) {
    read.problems.push(
      `GATEHOUSE_JWT_SECRET: must have at least ${MIN_SECRET_LENGTH} characters (256 bits); generate one with: openssl rand -base64 48`,
    );
  } else if (KNOWN_DEFAULT_SECRETS.has(raw)) {
    read.problems.push(
      'GATEHOUSE_JWT_SECRET: is a published example value; generate one with: openssl rand -base64 48',
    );
  } else if (guessable !== undefined) {
    read.problems.push(
      `GATEHOUSE_JWT_SECRET: is guessable (it ${guessable}); use random bytes, e.g. generate one with: openssl rand -base64 48`,
    );
  }
  return raw;
}

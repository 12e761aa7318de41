/**
 * The stored-hash formats Gatehouse verifies (API.md 5, 10): its own argon2id, and hashes made
 * by other systems and imported as they are: bcrypt (`$2a$`, `$2b$`, `$2y$`, e.g. passlib),
 * argon2 from argon2-cffi / passlib, passlib's `$pbkdf2-sha256$` and Django's `pbkdf2_sha256$`.
 *
 * Every cost parameter is bounded (OWASP ASVS 2.4, CWE-400): a hostile or mistaken import
 * must not make one login cost a minute of CPU or gigabytes of memory. A hash past a bound is
 * refused at import and, should one reach the store some other way, fails every login without
 * being computed.
 */

export const HASH_BOUNDS = Object.freeze({
  // bcrypt cost 14 is about a second here; passlib's default is 12.
  bcryptMaxCost: 14,
  // Django 5.2's default is 1,000,000; passlib's pbkdf2_sha256 default is 29,000.
  pbkdf2MaxIterations: 1_000_000,
  // 256 MiB; argon2-cffi's default is 100 MiB (m=102400, t=2, p=8).
  argon2MaxMemoryKiB: 262_144,
  argon2MaxTime: 10,
  argon2MaxParallelism: 16,
  // Longer derived keys add work (PBKDF2 computes one block per 32 bytes) and no strength.
  maxDerivedKeyBytes: 64,
});

export type ParsedHash =
  | { scheme: 'bcrypt'; kind: string; cost: number }
  | {
      scheme: 'argon2';
      kind: string;
      variant: 'argon2id' | 'argon2i' | 'argon2d';
      memoryKiB: number;
      time: number;
      parallelism: number;
    }
  | {
      scheme: 'pbkdf2-sha256';
      kind: string;
      iterations: number;
      salt: Buffer;
      derivedKey: Buffer;
    };

export type HashParseResult = { ok: true; hash: ParsedHash } | { ok: false; reason: string };

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const ARGON2 =
  /^\$(argon2id|argon2i|argon2d)\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$([A-Za-z0-9+/]{11,128})\$([A-Za-z0-9+/]{16,128})$/;
// passlib: $pbkdf2-sha256$ROUNDS$SALT$CHECKSUM, salt and checksum in "ab64" (base64 with ./
// for +/ and no padding).
const PASSLIB_PBKDF2 =
  /^\$pbkdf2-sha256\$(\d{1,10})\$([./A-Za-z0-9]{0,128})\$([./A-Za-z0-9]{16,128})$/;
// Django: pbkdf2_sha256$ITERATIONS$SALT$BASE64; the salt is used as its text, not decoded.
const DJANGO_PBKDF2 =
  /^pbkdf2_sha256\$(\d{1,10})\$([A-Za-z0-9]{1,128})\$([A-Za-z0-9+/]{16,128}={0,2})$/;

const refuse = (reason: string): HashParseResult => ({ ok: false, reason });

function ab64Decode(text: string): Buffer {
  return Buffer.from(text.replaceAll('.', '+'), 'base64');
}

function pbkdf2(
  iterations: number,
  salt: Buffer,
  derivedKey: Buffer,
  format: 'passlib' | 'django',
): HashParseResult {
  if (iterations < 1) return refuse('PBKDF2 iterations must be at least 1');
  if (iterations > HASH_BOUNDS.pbkdf2MaxIterations) {
    return refuse(
      `PBKDF2 iterations ${iterations} exceed the bound of ${HASH_BOUNDS.pbkdf2MaxIterations}`,
    );
  }
  if (derivedKey.length < 16 || derivedKey.length > HASH_BOUNDS.maxDerivedKeyBytes) {
    return refuse(`PBKDF2 hash must be 16 to ${HASH_BOUNDS.maxDerivedKeyBytes} bytes`);
  }
  return {
    ok: true,
    hash: {
      scheme: 'pbkdf2-sha256',
      kind: `pbkdf2-sha256-${format}-${iterations}-${derivedKey.length}`,
      iterations,
      salt,
      derivedKey,
    },
  };
}

/** Which format `stored` is in, with its parameters, or why it is not one Gatehouse accepts. */
export function parseStoredHash(stored: string): HashParseResult {
  if (stored.length > 512) return refuse('hash is longer than any supported format');
  const bcrypt = BCRYPT.exec(stored);
  if (bcrypt) {
    const cost = Number(bcrypt[1]);
    if (cost < 4) return refuse('bcrypt cost must be at least 4');
    if (cost > HASH_BOUNDS.bcryptMaxCost) {
      return refuse(`bcrypt cost ${cost} exceeds the bound of ${HASH_BOUNDS.bcryptMaxCost}`);
    }
    return { ok: true, hash: { scheme: 'bcrypt', kind: `bcrypt-${cost}`, cost } };
  }
  const argon2 = ARGON2.exec(stored);
  if (argon2) {
    const [, variant, m, t, p] = argon2 as unknown as [string, 'argon2id', string, string, string];
    const memoryKiB = Number(m);
    const time = Number(t);
    const parallelism = Number(p);
    if (time < 1 || parallelism < 1 || memoryKiB < 8 * parallelism) {
      return refuse('argon2 parameters out of range (t >= 1, p >= 1, m >= 8p)');
    }
    if (
      memoryKiB > HASH_BOUNDS.argon2MaxMemoryKiB ||
      time > HASH_BOUNDS.argon2MaxTime ||
      parallelism > HASH_BOUNDS.argon2MaxParallelism
    ) {
      return refuse(
        `argon2 parameters m=${memoryKiB},t=${time},p=${parallelism} exceed the bounds ` +
          `m<=${HASH_BOUNDS.argon2MaxMemoryKiB},t<=${HASH_BOUNDS.argon2MaxTime},p<=${HASH_BOUNDS.argon2MaxParallelism}`,
      );
    }
    return {
      ok: true,
      hash: {
        scheme: 'argon2',
        kind: `${variant}-${memoryKiB}-${time}-${parallelism}`,
        variant,
        memoryKiB,
        time,
        parallelism,
      },
    };
  }
  const passlib = PASSLIB_PBKDF2.exec(stored);
  if (passlib) {
    return pbkdf2(Number(passlib[1]), ab64Decode(passlib[2]!), ab64Decode(passlib[3]!), 'passlib');
  }
  const django = DJANGO_PBKDF2.exec(stored);
  if (django) {
    return pbkdf2(
      Number(django[1]),
      Buffer.from(django[2]!, 'utf8'),
      Buffer.from(django[3]!, 'base64'),
      'django',
    );
  }
  if (/^\$argon2(id|i|d)\$/.test(stored)) {
    return refuse('argon2 hash is not a complete $argon2id$v=19$m=...,t=...,p=...$salt$hash');
  }
  if (/^\$2[aby]\$/.test(stored)) return refuse('bcrypt hash is truncated or malformed');
  if (/^(\$pbkdf2-sha256\$|pbkdf2_sha256\$)/.test(stored)) {
    return refuse('pbkdf2-sha256 hash is truncated or malformed');
  }
  return refuse('unknown hash format');
}

/** For messages: the formats `parseStoredHash` accepts. */
export const ACCEPTED_HASH_FORMATS =
  'argon2id, argon2i or argon2d ($argon2id$v=19$m=...), bcrypt ($2a$, $2b$, $2y$), ' +
  'passlib $pbkdf2-sha256$ or Django pbkdf2_sha256$';

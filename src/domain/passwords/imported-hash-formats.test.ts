import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OWASP_ARGON2_PARAMETERS } from './argon2-parameters.ts';
import { Argon2PasswordHasher } from './argon2-password-hasher.ts';
import { FailureTimingFloor } from './failure-timing-floor.ts';
import { parseStoredHash } from './hash-formats.ts';
import { WorkLimiter } from './work-limiter.ts';

// Made by the real libraries: `/usr/bin/python3 test/fixtures/make-hash-fixtures.py >
// test/fixtures/imported-hashes.json` (Debian's python3-passlib, -bcrypt, -argon2, -django).
const FIXTURES = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/imported-hashes.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const PASSWORD = FIXTURES.password!;
// Made by @node-rs/argon2 (the library Gatehouse hashes with), other parameters than OWASP's:
// node -e "import('@node-rs/argon2').then(a => a.hash('correct horse battery staple',
//   { algorithm: 2, memoryCost: 8192, timeCost: 3, parallelism: 2 })).then(console.log)"
const NODE_RS_ARGON2ID_OTHER =
  '$argon2id$v=19$m=8192,t=3,p=2$H40Ye2+J6FOxCHsfoN/Q/w$NZ9oEOh07FdNTjw7HtLTyGg0e0Rfye5nR3oPzKPQD+0';

const IMPORTED = Object.entries(FIXTURES).filter(([name]) => name !== 'password');

function hasher(timing = new FailureTimingFloor()) {
  return new Argon2PasswordHasher(
    OWASP_ARGON2_PARAMETERS,
    new WorkLimiter({ concurrency: 4, maxQueued: 100 }),
    timing,
  );
}

describe('hashes imported from other systems (API.md 5, 10)', () => {
  for (const [name, stored] of [...IMPORTED, ['node_rs_argon2id_other', NODE_RS_ARGON2ID_OTHER]]) {
    it(`${name}: the right password verifies and asks for a rehash; a wrong one fails`, async () => {
      assert.ok(parseStoredHash(stored!).ok, 'accepted for import');
      const h = hasher();
      assert.deepEqual(await h.verify(stored!, PASSWORD), { valid: true, needsRehash: true });
      assert.deepEqual(await h.verify(stored!, `${PASSWORD}!`), {
        valid: false,
        needsRehash: false,
      });
    });
  }

  it('a hash made by Gatehouse with the current parameters needs no rehash', async () => {
    const h = hasher();
    const own = await h.hash(PASSWORD);
    assert.deepEqual(await h.verify(own, PASSWORD), { valid: true, needsRehash: false });
  });

  it('passlib ab64 and Django base64 decode to the same 32-byte PBKDF2-SHA256 key length', () => {
    for (const name of ['passlib_pbkdf2_sha256', 'django_pbkdf2_sha256']) {
      const parsed = parseStoredHash(FIXTURES[name]!);
      assert.ok(parsed.ok && parsed.hash.scheme === 'pbkdf2-sha256');
      assert.equal(parsed.hash.derivedKey.length, 32);
    }
  });

  // A hostile import must not make one login cost a minute or gigabytes (CWE-400).
  const ABSURD = {
    'bcrypt cost 31': '$2b$31$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu',
    'PBKDF2 4,000,000,000 iterations': FIXTURES.passlib_pbkdf2_sha256!.replace(
      '$29000$',
      '$4000000000$',
    ),
    'Django PBKDF2 99,000,000 iterations': FIXTURES.django_pbkdf2_sha256!.replace(
      /\$\d+\$/,
      '$99000000$',
    ),
    'argon2 4 TiB of memory': FIXTURES.argon2_cffi_argon2id!.replace('m=102400', 'm=4294967295'),
    'argon2 t=100000': FIXTURES.argon2_cffi_argon2id!.replace('t=2', 't=100000'),
    'argon2 p=255': FIXTURES.argon2_cffi_argon2id!.replace('p=8', 'p=255'),
  };
  for (const [what, stored] of Object.entries(ABSURD)) {
    it(`refuses ${what} at import and fails a login on it without computing it`, async () => {
      const parsed = parseStoredHash(stored);
      assert.equal(parsed.ok, false);
      assert.match(!parsed.ok ? parsed.reason : '', /exceed/);
      const timing = new FailureTimingFloor();
      assert.deepEqual(await hasher(timing).verify(stored, PASSWORD), {
        valid: false,
        needsRehash: false,
      });
      assert.equal(timing.floorMs, 0, 'no verification was run, so none was measured');
    });
  }

  for (const stored of [
    'plain text',
    '$1$saltsalt$md5cryptmd5cryptmd5cr',
    'pbkdf2_sha256$260000$salt$',
    '$pbkdf2-sha256$29000$c2FsdA$',
    '$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcA',
    FIXTURES.passlib_bcrypt_2b!.slice(0, 40),
    '',
  ]) {
    it(`an unknown or malformed hash (${JSON.stringify(stored.slice(0, 24))}) is refused and fails a login`, async () => {
      assert.equal(parseStoredHash(stored).ok, false);
      assert.equal((await hasher().verify(stored, PASSWORD)).valid, false);
    });
  }

  it('learns the failure-timing floor per imported kind (PBKDF2 included)', async () => {
    const timing = new FailureTimingFloor();
    const h = hasher(timing);
    await h.verify(FIXTURES.django_pbkdf2_sha256!, 'wrong');
    assert.ok(timing.floorMs > 0, 'the PBKDF2 verification was measured');
  });
});

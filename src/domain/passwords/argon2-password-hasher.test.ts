import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatehouseError } from '../errors.ts';
import { OWASP_ARGON2_PARAMETERS } from './argon2-parameters.ts';
import { Argon2PasswordHasher } from './argon2-password-hasher.ts';
import { WorkLimiter } from './work-limiter.ts';

const PASSWORD = 'correct horse battery staple';

// Generated with passlib 1.7.4 (bcrypt, 10 rounds, one per ident) for PASSWORD; committed as
// fixtures so imports from Python systems keep verifying.
const PASSLIB_BCRYPT_FIXTURES = [
  '$2b$10$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu',
  '$2y$10$MtLEyF7XKy01WJZ2QVVbPedAvasA/FRHqmoy/H.SVCahsfnN/etQy',
  '$2a$10$dp5ULC20WAFeAjTIl.4K8.myrdiCgJwS4RWw9IQhlzv2OzCSAed0.',
] as const;

/** A real limiter that also counts the jobs it was given and the most it ran at once. */
class CountingLimiter extends WorkLimiter {
  calls = 0;
  maxRunning = 0;
  /** What each job resolved to, in order of completion. */
  readonly results: unknown[] = [];
  override run<T>(job: () => Promise<T>): Promise<T> {
    this.calls++;
    return super.run(async () => {
      this.maxRunning = Math.max(this.maxRunning, this.running);
      const result = await job();
      this.results.push(result);
      return result;
    });
  }
}

function owaspHasher(limiter = new WorkLimiter({ concurrency: 4, maxQueued: 100 })) {
  return new Argon2PasswordHasher(OWASP_ARGON2_PARAMETERS, limiter);
}

/** Holds the limiter's only slot until released. */
function occupy(limiter: WorkLimiter): { release: () => void; done: Promise<void> } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return { release, done: limiter.run(() => held) };
}

describe('Argon2PasswordHasher: argon2id', () => {
  it('hashes with argon2id and the OWASP parameters (m=19456 KiB, t=2, p=1)', async () => {
    assert.deepEqual(
      { ...OWASP_ARGON2_PARAMETERS },
      { memoryCost: 19456, timeCost: 2, parallelism: 1 },
    );
    const hash = await owaspHasher().hash(PASSWORD);
    assert.ok(hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), `unexpected hash format`);
    assert.ok(!hash.includes(PASSWORD));
  });

  it('salts every hash, so one password hashes differently each time', async () => {
    const hasher = owaspHasher();
    assert.notEqual(await hasher.hash(PASSWORD), await hasher.hash(PASSWORD));
  });

  it('verifies the right password without asking for a rehash', async () => {
    const hasher = owaspHasher();
    const hash = await hasher.hash(PASSWORD);
    assert.deepEqual(await hasher.verify(hash, PASSWORD), { valid: true, needsRehash: false });
  });

  it('refuses a wrong password', async () => {
    const hasher = owaspHasher();
    const hash = await hasher.hash(PASSWORD);
    assert.deepEqual(await hasher.verify(hash, 'correct horse battery stapler'), {
      valid: false,
      needsRehash: false,
    });
    assert.deepEqual(await hasher.verify(hash, PASSWORD.toUpperCase()), {
      valid: false,
      needsRehash: false,
    });
  });

  it('verifies a hash made with other parameters and flags it for rehash', async () => {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueued: 10 });
    const older = new Argon2PasswordHasher(
      { memoryCost: 8192, timeCost: 1, parallelism: 1 },
      limiter,
    );
    const hash = await older.hash(PASSWORD);
    assert.ok(hash.startsWith('$argon2id$v=19$m=8192,t=1,p=1$'));
    const hasher = owaspHasher(limiter);
    assert.deepEqual(await hasher.verify(hash, PASSWORD), { valid: true, needsRehash: true });
    assert.deepEqual(await hasher.verify(hash, 'wrong password'), {
      valid: false,
      needsRehash: false,
    });
  });
});

describe('Argon2PasswordHasher: bcrypt imported from passlib', () => {
  for (const fixture of PASSLIB_BCRYPT_FIXTURES) {
    const ident = fixture.slice(0, 4);

    it(`verifies a passlib ${ident} hash and flags it for rehash to argon2id`, async () => {
      assert.deepEqual(await owaspHasher().verify(fixture, PASSWORD), {
        valid: true,
        needsRehash: true,
      });
    });

    it(`refuses a wrong password against a passlib ${ident} hash`, async () => {
      const hasher = owaspHasher();
      for (const wrong of ['correct horse battery stapler', 'Correct horse battery staple', '']) {
        assert.deepEqual(await hasher.verify(fixture, wrong), { valid: false, needsRehash: false });
      }
    });
  }
});

describe('Argon2PasswordHasher: corrupt stored hashes', () => {
  const bcrypt = PASSLIB_BCRYPT_FIXTURES[0];
  const corrupt = [
    '',
    'garbage',
    PASSWORD, // a plain-text "hash"
    '$argon2id$',
    '$argon2id$v=19$m=19456,t=2,p=1$',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$not-base64!!',
    '$argon2id$v=19$m=0,t=0,p=0$c29tZXNhbHQ$YWJj',
    '$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$YWJj',
    '$2b$10$',
    '$2b$10$short',
    bcrypt.slice(0, 40),
    `${bcrypt}trailing`,
    `$2b$10$${'é'.repeat(53)}`,
    '$2x$10$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu',
    '\u0000',
  ];

  for (const stored of corrupt) {
    it(`answers valid:false without throwing for the stored hash ${JSON.stringify(stored)}`, async () => {
      const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 10 });
      const check = await owaspHasher(limiter).verify(stored, PASSWORD);
      assert.deepEqual(check, { valid: false, needsRehash: false });
      assert.equal(limiter.running, 0, 'the limiter slot is released');
    });
  }
});

describe('Argon2PasswordHasher: work limiting', () => {
  it('runs hashing and verifying through the limiter', async () => {
    const limiter = new CountingLimiter({ concurrency: 1, maxQueued: 10 });
    const hasher = owaspHasher(limiter);
    const hash = await hasher.hash(PASSWORD);
    await hasher.verify(hash, PASSWORD);
    await hasher.verify(PASSLIB_BCRYPT_FIXTURES[1], PASSWORD);
    assert.equal(limiter.calls, 3);
    assert.equal(limiter.maxRunning, 1);
  });

  it('reports overload as hashing_overloaded rather than as a wrong password', async () => {
    // Answering "invalid" here would turn a busy server into failed logins (and count them
    // against the account), and would differ from an unknown user, whose dummy verify throws.
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 0 });
    const hasher = owaspHasher(limiter);
    const hash = await hasher.hash(PASSWORD);
    const busy = occupy(limiter);
    for (const stored of [hash, PASSLIB_BCRYPT_FIXTURES[0]]) {
      await assert.rejects(hasher.verify(stored, PASSWORD), (error: unknown) => {
        assert.ok(error instanceof GatehouseError);
        assert.equal(error.code, 'hashing_overloaded');
        return true;
      });
    }
    busy.release();
    await busy.done;
    assert.deepEqual(await hasher.verify(hash, PASSWORD), { valid: true, needsRehash: false });
  });
});

describe('Argon2PasswordHasher: verifyDummy', () => {
  it('resolves, for any password', async () => {
    const hasher = owaspHasher();
    await hasher.verifyDummy(PASSWORD);
    await hasher.verifyDummy('');
    await hasher.verifyDummy('gatehouse-timing-equaliser');
  });

  it('does a real argon2id verify through the limiter on every call', async () => {
    const limiter = new CountingLimiter({ concurrency: 2, maxQueued: 10 });
    const hasher = owaspHasher(limiter);
    // The first call also makes the dummy hash once: one hash plus one verify.
    await hasher.verifyDummy(PASSWORD);
    assert.equal(limiter.calls, 2);
    assert.equal(limiter.maxRunning, 1, 'each job held a limiter slot while it ran');
    const [dummyHash, firstCheck] = limiter.results;
    assert.equal(typeof dummyHash, 'string');
    assert.ok(
      (dummyHash as string).startsWith('$argon2id$v=19$m=19456,t=2,p=1$'),
      'the dummy hash has the current parameters, so it costs what a real verify costs',
    );
    assert.equal(firstCheck, false);

    await hasher.verifyDummy('another password');
    await hasher.verifyDummy('a third password');
    assert.equal(limiter.calls, 4, 'each later call is one verify');
    assert.deepEqual(limiter.results.slice(2), [false, false]);
    assert.equal(limiter.running, 0);
  });

  it('recovers when its first call met an overloaded limiter', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueued: 0 });
    const hasher = owaspHasher(limiter);
    const busy = occupy(limiter);
    await assert.rejects(hasher.verifyDummy(PASSWORD), { code: 'hashing_overloaded' });
    busy.release();
    await busy.done;
    // The failed attempt to make the dummy hash must not be remembered forever.
    await hasher.verifyDummy(PASSWORD);
    await hasher.verifyDummy(PASSWORD);
  });
});

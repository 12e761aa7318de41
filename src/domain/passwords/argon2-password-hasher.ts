import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import type * as BcryptModule from '@node-rs/bcrypt';
import { performance } from 'node:perf_hooks';
import type { Argon2Parameters } from './argon2-parameters.ts';
import { FailureTimingFloor } from './failure-timing-floor.ts';
import { parseStoredHash } from './hash-formats.ts';
import type { PasswordCheck, PasswordHasher } from './password-hasher.ts';
import { verifyPbkdf2Sha256 } from './pbkdf2-verify.ts';
import type { WorkLimiter } from './work-limiter.ts';

// bcrypt is only for hashes imported from other systems: loaded on the first one seen.
let bcrypt: Promise<typeof BcryptModule> | undefined;
function loadBcrypt(): Promise<typeof BcryptModule> {
  bcrypt ??= import('@node-rs/bcrypt');
  return bcrypt;
}

// `Algorithm.Argon2id` of @node-rs/argon2: a const enum, which verbatimModuleSyntax cannot import.
const ARGON2ID = 2 as Algorithm;

/**
 * A corrupt stored hash is a failed login, never a crash. The catch sits inside the limited
 * job: a refusal by the limiter (`hashing_overloaded`) must reach the caller, not read as a
 * wrong password (which would count against the account and differ from an unknown user).
 */
async function verifyOrFalse(verify: () => Promise<boolean>): Promise<boolean> {
  try {
    return await verify();
  } catch {
    return false;
  }
}

/**
 * argon2id for new hashes (OWASP ASVS 2.4.1 / 2.4.4); hashes imported from other systems
 * (bcrypt, argon2, PBKDF2: hash-formats.ts) still verify and are flagged for rehash, so
 * they upgrade on the next login.
 * The native libraries run on libuv's thread pool, off the event loop; the limiter
 * bounds how much of that work may be in flight or waiting.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  readonly #params: Argon2Parameters;
  readonly #limiter: WorkLimiter;
  readonly #timing: FailureTimingFloor;
  #dummyHash: Promise<string> | undefined;

  constructor(
    params: Argon2Parameters,
    limiter: WorkLimiter,
    timing: FailureTimingFloor = new FailureTimingFloor(),
  ) {
    this.#params = params;
    this.#limiter = limiter;
    this.#timing = timing;
  }

  hash(password: string): Promise<string> {
    return this.#limiter.run(() => argon2Hash(password, { algorithm: ARGON2ID, ...this.#params }));
  }

  /** A failure answers no sooner than the slowest kind of verification takes (see FailureTimingFloor). */
  async verify(storedHash: string, password: string): Promise<PasswordCheck> {
    const started = performance.now();
    const check = await this.#check(storedHash, password);
    if (!check.valid) await this.#timing.holdFailure(started);
    return check;
  }

  async #check(storedHash: string, password: string): Promise<PasswordCheck> {
    // An unknown, malformed or over-bound hash (hash-formats.ts) is a failed login, at no cost.
    const parsed = parseStoredHash(storedHash);
    if (!parsed.ok) return { valid: false, needsRehash: false };
    const { hash } = parsed;
    const valid = await this.#limiter.run(() =>
      this.#timing.measure(hash.kind, () =>
        verifyOrFalse(async () => {
          switch (hash.scheme) {
            case 'bcrypt':
              // @node-rs/bcrypt reads $2a$/$2b$ only; $2y$ (PHP, passlib's ident option) is the same algorithm.
              return (await loadBcrypt()).verify(password, storedHash.replace(/^\$2y\$/, '$2b$'));
            case 'pbkdf2-sha256':
              return verifyPbkdf2Sha256(password, hash.salt, hash.iterations, hash.derivedKey);
            case 'argon2':
              return argon2Verify(storedHash, password);
          }
        }),
      ),
    );
    const current =
      hash.scheme === 'argon2' &&
      hash.variant === 'argon2id' &&
      hash.memoryKiB === this.#params.memoryCost &&
      hash.time === this.#params.timeCost &&
      hash.parallelism === this.#params.parallelism;
    return { valid, needsRehash: valid && !current };
  }

  async verifyDummy(password: string): Promise<void> {
    // A real hash of the current parameters, made once, so the dummy costs what a real verify costs.
    // A failed attempt (e.g. hashing_overloaded) is forgotten, not cached for good.
    this.#dummyHash ??= this.hash('gatehouse-timing-equaliser').catch((error: unknown) => {
      this.#dummyHash = undefined;
      throw error;
    });
    await this.verify(await this.#dummyHash, password);
  }
}

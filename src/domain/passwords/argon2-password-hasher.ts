import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import type * as BcryptModule from '@node-rs/bcrypt';
import { performance } from 'node:perf_hooks';
import { FailureTimingFloor } from './failure-timing-floor.ts';
import type { PasswordCheck, PasswordHasher } from './password-hasher.ts';
import type { WorkLimiter } from './work-limiter.ts';

export interface Argon2Parameters {
  /** KiB. OWASP Password Storage Cheat Sheet: argon2id m=19456 KiB, t=2, p=1. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_ARGON2_PARAMETERS: Argon2Parameters = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

// bcrypt is only for hashes imported from other systems: loaded on the first one seen.
let bcrypt: Promise<typeof BcryptModule> | undefined;
function loadBcrypt(): Promise<typeof BcryptModule> {
  bcrypt ??= import('@node-rs/bcrypt');
  return bcrypt;
}

// Hashes written by passlib, PHP and most bcrypt libraries.
// `Algorithm.Argon2id` of @node-rs/argon2: a const enum, which verbatimModuleSyntax cannot import.
const ARGON2ID = 2 as Algorithm;
const BCRYPT_PREFIX = /^\$2[aby]\$(\d\d)\$/;
const ARGON2ID_PARAMS = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

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
 * argon2id for new hashes (OWASP ASVS 2.4.1 / 2.4.4); bcrypt hashes imported from other
 * systems still verify and are flagged for rehash, so they upgrade on the next login.
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
    const bcryptCost = BCRYPT_PREFIX.exec(storedHash)?.[1];
    if (bcryptCost !== undefined) {
      // @node-rs/bcrypt reads $2a$/$2b$ only; $2y$ (PHP, passlib's ident option) is the same algorithm.
      const normalized = storedHash.replace(/^\$2y\$/, '$2b$');
      const valid = await this.#limiter.run(() =>
        this.#timing.measure(`bcrypt-${bcryptCost}`, () =>
          verifyOrFalse(async () => (await loadBcrypt()).verify(password, normalized)),
        ),
      );
      return { valid, needsRehash: valid };
    }
    const match = ARGON2ID_PARAMS.exec(storedHash);
    if (!match && !storedHash.startsWith('$argon2')) return { valid: false, needsRehash: false };
    const kind = match ? `argon2id-${match[1]}-${match[2]}-${match[3]}` : 'argon2-other';
    const valid = await this.#limiter.run(() =>
      this.#timing.measure(kind, () => verifyOrFalse(() => argon2Verify(storedHash, password))),
    );
    const current =
      match !== null &&
      Number(match[1]) === this.#params.memoryCost &&
      Number(match[2]) === this.#params.timeCost &&
      Number(match[3]) === this.#params.parallelism;
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

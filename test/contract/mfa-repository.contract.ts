import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { User } from '../../src/domain/accounts/user.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = new Date('2030-07-01T12:00:00.000Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
let n = 0;

/** The MfaRepository port's contract (API.md 9), run against every store. */
export function mfaRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  async function newUser(): Promise<User> {
    n += 1;
    return storage.users.create({
      email: `mfa-${n}@example.com`,
      passwordHash: '$argon2id$mfa-contract',
      role: 'user',
      createdAt: T0,
    });
  }

  async function enrolled(): Promise<User> {
    const user = await newUser();
    assert.equal(
      await storage.mfa.startTotp({
        userId: user.id,
        secret: 'JBSWY3DPEHPK3PXP',
        secretEncryption: 'none',
        createdAt: T0,
      }),
      true,
    );
    assert.equal(await storage.mfa.confirmTotp(user.id, 100, T0, ['h1', 'h2']), true);
    return user;
  }

  it('counts a TOTP factor as a second factor only once confirmed, and caches mfa_enabled', async () => {
    const user = await newUser();
    assert.equal(await storage.mfa.hasSecondFactor(user.id), false);
    await storage.mfa.startTotp({
      userId: user.id,
      secret: 'S',
      secretEncryption: 'none',
      createdAt: T0,
    });
    assert.equal(await storage.mfa.hasSecondFactor(user.id), false);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, false);
    assert.equal(await storage.mfa.confirmTotp(user.id, 5, T0, []), true);
    assert.equal(await storage.mfa.hasSecondFactor(user.id), true);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, true);
    // Confirmed: a second confirmation and a new enrolment are refused.
    assert.equal(await storage.mfa.confirmTotp(user.id, 6, T0, []), false);
    assert.equal(
      await storage.mfa.startTotp({
        userId: user.id,
        secret: 'T',
        secretEncryption: 'none',
        createdAt: T0,
      }),
      false,
    );
    assert.equal((await storage.mfa.findTotp(user.id))?.secret, 'S');
    assert.equal(await storage.mfa.deleteTotp(user.id), true);
    assert.equal(await storage.mfa.hasSecondFactor(user.id), false);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, false);
  });

  it('accepts each time step at most once, and none older than the last', async () => {
    const user = await enrolled();
    assert.equal(await storage.mfa.useTotpStep(user.id, 100), false, 'the confirming step');
    assert.equal(await storage.mfa.useTotpStep(user.id, 101), true);
    assert.equal(await storage.mfa.useTotpStep(user.id, 101), false, 'replay');
    assert.equal(await storage.mfa.useTotpStep(user.id, 99), false, 'older');
    assert.equal((await storage.mfa.findTotp(user.id))?.lastUsedStep, 101);
  });

  it('of concurrent uses of one step, exactly one wins', async () => {
    const user = await enrolled();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => storage.mfa.useTotpStep(user.id, 200)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('uses a recovery code once; concurrent uses: exactly one wins', async () => {
    const user = await enrolled();
    assert.equal(await storage.mfa.countUnusedRecoveryCodes(user.id), 2);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => storage.mfa.useRecoveryCode(user.id, 'h1', T0)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await storage.mfa.useRecoveryCode(user.id, 'h1', T0), false);
    assert.equal(await storage.mfa.useRecoveryCode(user.id, 'nope', T0), false);
    assert.equal(await storage.mfa.countUnusedRecoveryCodes(user.id), 1);
    // Another user's code is not this user's.
    const other = await newUser();
    assert.equal(await storage.mfa.useRecoveryCode(other.id, 'h2', T0), false);
    assert.equal(await storage.mfa.replaceRecoveryCodes(user.id, ['h3'], T0), true);
    assert.equal(await storage.mfa.useRecoveryCode(user.id, 'h2', T0), false);
    assert.equal(await storage.mfa.useRecoveryCode(user.id, 'h3', T0), true);
    assert.equal(await storage.mfa.replaceRecoveryCodes(other.id, ['x'], T0), false);
  });

  it('bounds attempts per challenge, consumes it once and refuses it once expired', async () => {
    const user = await enrolled();
    const challenge = {
      userId: user.id,
      scope: 'me',
      sessionScope: '*',
      passwordDigest: 'd',
      createdAt: T0,
      expiresAt: later(300),
    };
    await storage.mfa.createChallenge({ ...challenge, tokenHash: `a${n}` });
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () => storage.mfa.attemptChallenge(`a${n}`, T0, 5)),
    );
    assert.equal(attempts.filter(Boolean).length, 5);
    assert.deepEqual(
      attempts
        .map((a) => a?.attempts)
        .filter(Boolean)
        .sort(),
      [1, 2, 3, 4, 5],
    );
    const live = attempts.find(Boolean);
    assert.equal(live?.userId, user.id);
    assert.equal(live?.scope, 'me');
    assert.equal(live?.sessionScope, '*');

    await storage.mfa.createChallenge({ ...challenge, tokenHash: `b${n}` });
    const consumed = await Promise.all(
      Array.from({ length: 4 }, () => storage.mfa.consumeChallenge(`b${n}`, T0)),
    );
    assert.equal(consumed.filter(Boolean).length, 1);
    assert.equal(await storage.mfa.attemptChallenge(`b${n}`, T0, 5), undefined);

    await storage.mfa.createChallenge({ ...challenge, tokenHash: `c${n}` });
    assert.equal(await storage.mfa.attemptChallenge(`c${n}`, later(300), 5), undefined);
    assert.equal(await storage.mfa.consumeChallenge(`c${n}`, later(301)), false);
    assert.ok((await storage.mfa.purgeChallenges(later(301))) >= 1);
  });

  it('an admin reset deletes every factor, code and pending challenge', async () => {
    const user = await enrolled();
    await storage.mfa.createChallenge({
      tokenHash: `r${n}`,
      userId: user.id,
      scope: 'me',
      sessionScope: '*',
      passwordDigest: 'd',
      createdAt: T0,
      expiresAt: later(300),
    });
    assert.equal(await storage.mfa.resetFactors(user.id), true);
    assert.equal(await storage.mfa.hasSecondFactor(user.id), false);
    assert.equal(await storage.mfa.findTotp(user.id), undefined);
    assert.equal(await storage.mfa.countUnusedRecoveryCodes(user.id), 0);
    assert.equal(await storage.mfa.attemptChallenge(`r${n}`, T0, 5), undefined);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, false);
    assert.equal(await storage.mfa.resetFactors(user.id), false);
  });
}

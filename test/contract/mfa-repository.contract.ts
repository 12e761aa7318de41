import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { User } from '../../src/domain/accounts/user.ts';
import type { Storage } from '../../src/storage/open-storage.ts';
import { contractStore, later, T0 } from '../support/contract-store.ts';

/** The MfaRepository port's contract (API.md 9), run against every store. */
export function mfaRepositoryContract(open: () => Promise<Storage>): void {
  const store = contractStore(open, 'mfa');

  /** startTotp() for `user` with a plain (unencrypted) `secret`; whether it was stored. */
  const startTotp = (user: User, secret: string) =>
    store.storage.mfa.startTotp({
      userId: user.id,
      secret,
      secretEncryption: 'none',
      createdAt: T0,
    });

  /** A pending MFA challenge of `user`, created at T0, live for 300 s (no token hash yet). */
  const challengeOf = (user: User) => ({
    userId: user.id,
    scope: 'me',
    sessionScope: '*',
    passwordDigest: 'd',
    createdAt: T0,
    expiresAt: later(300),
  });

  async function enrolled(): Promise<User> {
    const user = await store.newUser();
    assert.equal(await startTotp(user, 'JBSWY3DPEHPK3PXP'), true);
    assert.equal(await store.storage.mfa.confirmTotp(user.id, 100, T0, ['h1', 'h2']), true);
    return user;
  }

  it('counts a TOTP factor as a second factor only once confirmed, and caches mfa_enabled', async () => {
    const user = await store.newUser();
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), false);
    assert.equal(await startTotp(user, 'S'), true);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), false);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, false);
    assert.equal(await store.storage.mfa.confirmTotp(user.id, 5, T0, []), true);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), true);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, true);
    // Confirmed: a second confirmation and a new enrolment are refused.
    assert.equal(await store.storage.mfa.confirmTotp(user.id, 6, T0, []), false);
    assert.equal(await startTotp(user, 'T'), false);
    assert.equal((await store.storage.mfa.findTotp(user.id))?.secret, 'S');
    assert.equal(await store.storage.mfa.deleteTotp(user.id), true);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), false);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, false);
  });

  it('accepts each time step at most once, and none older than the last', async () => {
    const user = await enrolled();
    assert.equal(await store.storage.mfa.useTotpStep(user.id, 100), false, 'the confirming step');
    assert.equal(await store.storage.mfa.useTotpStep(user.id, 101), true);
    assert.equal(await store.storage.mfa.useTotpStep(user.id, 101), false, 'replay');
    assert.equal(await store.storage.mfa.useTotpStep(user.id, 99), false, 'older');
    assert.equal((await store.storage.mfa.findTotp(user.id))?.lastUsedStep, 101);
  });

  it('of concurrent uses of one step, exactly one wins', async () => {
    const user = await enrolled();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.storage.mfa.useTotpStep(user.id, 200)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('uses a recovery code once; concurrent uses: exactly one wins', async () => {
    const user = await enrolled();
    assert.equal(await store.storage.mfa.countUnusedRecoveryCodes(user.id), 2);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => store.storage.mfa.useRecoveryCode(user.id, 'h1', T0)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await store.storage.mfa.useRecoveryCode(user.id, 'h1', T0), false);
    assert.equal(await store.storage.mfa.useRecoveryCode(user.id, 'nope', T0), false);
    assert.equal(await store.storage.mfa.countUnusedRecoveryCodes(user.id), 1);
    // Another user's code is not this user's.
    const other = await store.newUser();
    assert.equal(await store.storage.mfa.useRecoveryCode(other.id, 'h2', T0), false);
    assert.equal(await store.storage.mfa.replaceRecoveryCodes(user.id, ['h3'], T0), true);
    assert.equal(await store.storage.mfa.useRecoveryCode(user.id, 'h2', T0), false);
    assert.equal(await store.storage.mfa.useRecoveryCode(user.id, 'h3', T0), true);
    assert.equal(await store.storage.mfa.replaceRecoveryCodes(other.id, ['x'], T0), false);
  });

  it('bounds attempts per challenge, consumes it once and refuses it once expired', async () => {
    const user = await enrolled();
    const challenge = challengeOf(user);
    await store.storage.mfa.createChallenge({ ...challenge, tokenHash: `a${user.id}` });
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () => store.storage.mfa.attemptChallenge(`a${user.id}`, T0, 5)),
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

    await store.storage.mfa.createChallenge({ ...challenge, tokenHash: `b${user.id}` });
    const consumed = await Promise.all(
      Array.from({ length: 4 }, () => store.storage.mfa.consumeChallenge(`b${user.id}`, T0)),
    );
    assert.equal(consumed.filter(Boolean).length, 1);
    assert.equal(await store.storage.mfa.attemptChallenge(`b${user.id}`, T0, 5), undefined);

    await store.storage.mfa.createChallenge({ ...challenge, tokenHash: `c${user.id}` });
    assert.equal(await store.storage.mfa.attemptChallenge(`c${user.id}`, later(300), 5), undefined);
    assert.equal(await store.storage.mfa.consumeChallenge(`c${user.id}`, later(301)), false);
    assert.ok((await store.storage.mfa.purgeChallenges(later(301))) >= 1);
  });

  it('an admin reset deletes every factor, code and pending challenge', async () => {
    const user = await enrolled();
    await store.storage.mfa.createChallenge({ ...challengeOf(user), tokenHash: `r${user.id}` });
    assert.equal(await store.storage.mfa.resetFactors(user.id), true);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), false);
    assert.equal(await store.storage.mfa.findTotp(user.id), undefined);
    assert.equal(await store.storage.mfa.countUnusedRecoveryCodes(user.id), 0);
    assert.equal(await store.storage.mfa.attemptChallenge(`r${user.id}`, T0, 5), undefined);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, false);
    assert.equal(await store.storage.mfa.resetFactors(user.id), false);
  });

  it('lists pending and confirmed TOTP factors by user id, a page at a time (for gatehouse reseal)', async () => {
    const confirmed = await enrolled();
    const pending = await store.newUser();
    assert.equal(await startTotp(pending, 'PENDINGSECRET'), true);
    const page = await store.storage.mfa.listTotpFactors(confirmed.id - 1, 2);
    assert.deepEqual(
      page.map((f) => [f.userId, f.secret, f.confirmedAt === null]),
      [
        [confirmed.id, 'JBSWY3DPEHPK3PXP', false],
        [pending.id, 'PENDINGSECRET', true],
      ],
    );
    assert.deepEqual(
      (await store.storage.mfa.listTotpFactors(confirmed.id, 1)).map((f) => f.userId),
      [pending.id],
    );
    assert.deepEqual(await store.storage.mfa.listTotpFactors(pending.id, 10), []);
    // Every factor of the store, in pages, each user once, in order.
    const ids: number[] = [];
    for (let after = 0, next = [] as number[]; ; after = next.at(-1)!) {
      next = (await store.storage.mfa.listTotpFactors(after, 3)).map((f) => f.userId);
      if (next.length === 0) break;
      ids.push(...next);
    }
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((a, b) => a - b),
    );
    assert.ok(ids.includes(confirmed.id) && ids.includes(pending.id));
  });

  it('replaces a TOTP secret only while the row still holds the old one, touching nothing else', async () => {
    const user = await enrolled();
    const other = await enrolled();
    assert.equal(await store.storage.mfa.useTotpStep(user.id, 150), true);
    const replaced = await store.storage.mfa.replaceTotpSecrets([
      {
        userId: user.id,
        fromSecret: 'JBSWY3DPEHPK3PXP',
        secret: 'v1.sealed',
        secretEncryption: 'aes-256-gcm',
      },
      // Changed since it was read (a new enrolment, another reseal): left as it is.
      { userId: other.id, fromSecret: 'STALE', secret: 'v1.x', secretEncryption: 'aes-256-gcm' },
      { userId: 2_000_000_000, fromSecret: 'X', secret: 'v1.y', secretEncryption: 'aes-256-gcm' },
    ]);
    assert.equal(replaced, 1);
    const after = await store.storage.mfa.findTotp(user.id);
    assert.equal(after?.secret, 'v1.sealed');
    assert.equal(after?.secretEncryption, 'aes-256-gcm');
    assert.equal(after?.lastUsedStep, 150);
    assert.deepEqual(after?.confirmedAt, T0);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), true);
    const untouched = await store.storage.mfa.findTotp(other.id);
    assert.equal(untouched?.secret, 'JBSWY3DPEHPK3PXP');
    assert.equal(untouched?.secretEncryption, 'none');
    assert.equal(await store.storage.mfa.replaceTotpSecrets([]), 0);
  });
}

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import type { Passkey } from '../../src/domain/passkeys/passkey.ts';
import type { Storage } from '../../src/storage/open-storage.ts';
import { contractStore, later, T0 } from '../support/contract-store.ts';

/** The PasskeyRepository port's contract (API.md 9), run against every store. */
export function passkeyRepositoryContract(open: () => Promise<Storage>): void {
  const store = contractStore(open, 'passkey');

  function passkey(userId: number, overrides: Partial<Passkey> = {}): Passkey {
    return {
      id: randomUUID(),
      userId,
      credentialId: randomUUID(),
      publicKey: 'cHVibGlj',
      signCount: 0,
      transports: ['internal', 'hybrid'],
      deviceType: 'multiDevice',
      backedUp: true,
      name: 'Phone',
      createdAt: T0,
      lastUsedAt: null,
      ...overrides,
    };
  }

  it('stores a passkey with its flags, counter and transports, and lists it for its user only', async () => {
    const user = await store.newUser();
    const other = await store.newUser();
    const stored = passkey(user.id, { signCount: 4_000_000_000 });
    assert.equal(await store.storage.passkeys.add(stored), 'added');
    assert.deepEqual(await store.storage.passkeys.listForUser(user.id), [stored]);
    assert.deepEqual(await store.storage.passkeys.findByCredentialId(stored.credentialId), stored);
    assert.deepEqual(await store.storage.passkeys.listForUser(other.id), []);
  });

  it('refuses a credential id registered already (to anyone), and a deleted user', async () => {
    const user = await store.newUser();
    const other = await store.newUser();
    const first = passkey(user.id);
    assert.equal(await store.storage.passkeys.add(first), 'added');
    assert.equal(
      await store.storage.passkeys.add(passkey(other.id, { credentialId: first.credentialId })),
      'duplicate',
    );
    assert.equal(await store.storage.passkeys.add(passkey(987_654)), 'no_user');
  });

  it('renames and deletes only the owner’s passkey; a passkey is a second factor while it exists', async () => {
    const user = await store.newUser();
    const other = await store.newUser();
    const p = passkey(user.id);
    await store.storage.passkeys.add(p);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), true);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, true);
    assert.equal(await store.storage.passkeys.rename(other.id, p.id, 'x'), false);
    assert.equal(await store.storage.passkeys.delete(other.id, p.id), false);
    assert.equal(await store.storage.passkeys.rename(user.id, p.id, 'Laptop'), true);
    assert.equal((await store.storage.passkeys.listForUser(user.id))[0]?.name, 'Laptop');
    assert.equal(await store.storage.passkeys.delete(user.id, p.id), true);
    assert.equal(await store.storage.passkeys.delete(user.id, p.id), false);
    assert.equal(await store.storage.mfa.hasSecondFactor(user.id), false);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, false);
  });

  it('records a use only over the counter seen: of two concurrent uses exactly one wins', async () => {
    const user = await store.newUser();
    const p = passkey(user.id, { signCount: 5 });
    await store.storage.passkeys.add(p);
    const results = await Promise.all([
      store.storage.passkeys.recordUse(p.id, 5, { signCount: 6, backedUp: false, at: later(1) }),
      store.storage.passkeys.recordUse(p.id, 5, { signCount: 6, backedUp: false, at: later(1) }),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    const [after] = await store.storage.passkeys.listForUser(user.id);
    assert.equal(after?.signCount, 6);
    assert.equal(after?.backedUp, false);
    assert.deepEqual(after?.lastUsedAt, later(1));
  });

  it('consumes a challenge once, for its purpose, before it expires, with its user', async () => {
    const user = await store.newUser();
    const add = (
      challenge: string,
      purpose: 'registration' | 'authentication',
      userId: number | null,
    ) =>
      store.storage.passkeys.addChallenge({
        challenge,
        purpose,
        userId,
        createdAt: T0,
        expiresAt: later(300),
      });
    assert.equal(await add('c-reg', 'registration', user.id), true);
    assert.equal(await add('c-auth', 'authentication', null), true);
    assert.equal(await add('c-gone', 'registration', 987_654), false);
    assert.equal(
      await store.storage.passkeys.consumeChallenge('c-reg', 'authentication', T0),
      undefined,
    );
    const both = await Promise.all([
      store.storage.passkeys.consumeChallenge('c-reg', 'registration', T0),
      store.storage.passkeys.consumeChallenge('c-reg', 'registration', T0),
    ]);
    assert.deepEqual(
      both.filter(Boolean).map((b) => b?.userId),
      [user.id],
    );
    assert.equal(
      await store.storage.passkeys.consumeChallenge('c-auth', 'authentication', later(300)),
      undefined,
    );
    assert.equal(await store.storage.passkeys.purgeChallenges(later(301)), 2);
  });

  it('the MFA reset deletes every passkey of the user', async () => {
    const user = await store.newUser();
    await store.storage.passkeys.add(passkey(user.id));
    await store.storage.passkeys.add(passkey(user.id));
    assert.equal(await store.storage.mfa.resetFactors(user.id), true);
    assert.deepEqual(await store.storage.passkeys.listForUser(user.id), []);
    assert.equal((await store.storage.users.findById(user.id))?.mfaEnabled, false);
  });
}

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { User } from '../../src/domain/accounts/user.ts';
import type { Passkey } from '../../src/domain/passkeys/passkey.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = new Date('2030-07-01T12:00:00.000Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
let n = 0;

/** The PasskeyRepository port's contract (API.md 9), run against every store. */
export function passkeyRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  async function newUser(): Promise<User> {
    n += 1;
    return storage.users.create({
      email: `passkey-${n}@example.com`,
      passwordHash: '$argon2id$passkey-contract',
      role: 'user',
      createdAt: T0,
    });
  }

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
    const user = await newUser();
    const other = await newUser();
    const stored = passkey(user.id, { signCount: 4_000_000_000 });
    assert.equal(await storage.passkeys.add(stored), 'added');
    assert.deepEqual(await storage.passkeys.listForUser(user.id), [stored]);
    assert.deepEqual(await storage.passkeys.findByCredentialId(stored.credentialId), stored);
    assert.deepEqual(await storage.passkeys.listForUser(other.id), []);
  });

  it('refuses a credential id registered already (to anyone), and a deleted user', async () => {
    const user = await newUser();
    const other = await newUser();
    const first = passkey(user.id);
    assert.equal(await storage.passkeys.add(first), 'added');
    assert.equal(
      await storage.passkeys.add(passkey(other.id, { credentialId: first.credentialId })),
      'duplicate',
    );
    assert.equal(await storage.passkeys.add(passkey(987_654)), 'no_user');
  });

  it('renames and deletes only the owner’s passkey; a passkey is a second factor while it exists', async () => {
    const user = await newUser();
    const other = await newUser();
    const p = passkey(user.id);
    await storage.passkeys.add(p);
    assert.equal(await storage.mfa.hasSecondFactor(user.id), true);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, true);
    assert.equal(await storage.passkeys.rename(other.id, p.id, 'x'), false);
    assert.equal(await storage.passkeys.delete(other.id, p.id), false);
    assert.equal(await storage.passkeys.rename(user.id, p.id, 'Laptop'), true);
    assert.equal((await storage.passkeys.listForUser(user.id))[0]?.name, 'Laptop');
    assert.equal(await storage.passkeys.delete(user.id, p.id), true);
    assert.equal(await storage.passkeys.delete(user.id, p.id), false);
    assert.equal(await storage.mfa.hasSecondFactor(user.id), false);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, false);
  });

  it('records a use only over the counter seen: of two concurrent uses exactly one wins', async () => {
    const user = await newUser();
    const p = passkey(user.id, { signCount: 5 });
    await storage.passkeys.add(p);
    const results = await Promise.all([
      storage.passkeys.recordUse(p.id, 5, { signCount: 6, backedUp: false, at: later(1) }),
      storage.passkeys.recordUse(p.id, 5, { signCount: 6, backedUp: false, at: later(1) }),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    const [after] = await storage.passkeys.listForUser(user.id);
    assert.equal(after?.signCount, 6);
    assert.equal(after?.backedUp, false);
    assert.deepEqual(after?.lastUsedAt, later(1));
  });

  it('consumes a challenge once, for its purpose, before it expires, with its user', async () => {
    const user = await newUser();
    const add = (
      challenge: string,
      purpose: 'registration' | 'authentication',
      userId: number | null,
    ) =>
      storage.passkeys.addChallenge({
        challenge,
        purpose,
        userId,
        createdAt: T0,
        expiresAt: later(300),
      });
    assert.equal(await add('c-reg', 'registration', user.id), true);
    assert.equal(await add('c-auth', 'authentication', null), true);
    assert.equal(await add('c-gone', 'registration', 987_654), false);
    assert.equal(await storage.passkeys.consumeChallenge('c-reg', 'authentication', T0), undefined);
    const both = await Promise.all([
      storage.passkeys.consumeChallenge('c-reg', 'registration', T0),
      storage.passkeys.consumeChallenge('c-reg', 'registration', T0),
    ]);
    assert.deepEqual(
      both.filter(Boolean).map((b) => b?.userId),
      [user.id],
    );
    assert.equal(
      await storage.passkeys.consumeChallenge('c-auth', 'authentication', later(300)),
      undefined,
    );
    assert.equal(await storage.passkeys.purgeChallenges(later(301)), 2);
  });

  it('the MFA reset deletes every passkey of the user', async () => {
    const user = await newUser();
    await storage.passkeys.add(passkey(user.id));
    await storage.passkeys.add(passkey(user.id));
    assert.equal(await storage.mfa.resetFactors(user.id), true);
    assert.deepEqual(await storage.passkeys.listForUser(user.id), []);
    assert.equal((await storage.users.findById(user.id))?.mfaEnabled, false);
  });
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
// A unit test of the domain against the real store (STYLE.md: no fakes of the store); the
// domain code itself still imports nothing of storage/.
// eslint-disable-next-line no-restricted-imports
import { openStorage, type Storage } from '../../storage/open-storage.ts';
import { signingKeysWith } from '../../../test/support/signing-key-overrides.ts';
import { KeyEncryption, newSigningKey } from './key-material.ts';
import { resealSecrets } from './reseal-secrets.ts';

const T0 = new Date('2031-01-01T00:00:00Z');

describe('resealSecrets: values changed between the read and the write', () => {
  const opened: Storage[] = [];
  after(() => Promise.all(opened.map((s) => s.close())));

  it('leaves a value changed meanwhile as written, counts it, and reseals the rest', async () => {
    const storage = await openStorage('sqlite::memory:');
    opened.push(storage);
    await storage.migrate();
    const oldKey = randomBytes(32);
    const first = await newSigningKey('EdDSA', T0, new KeyEncryption(oldKey));
    await storage.signingKeys.insertIfNoneActive(first);
    await storage.signingKeys.rotate(first.kid, await newSigningKey('EdDSA', T0, undefined));
    const users = await Promise.all(
      ['a', 'b'].map((name) =>
        storage.users.create({
          email: `${name}@example.com`,
          passwordHash: '$argon2id$x',
          role: 'user',
          createdAt: T0,
        }),
      ),
    );
    for (const user of users) {
      await storage.mfa.startTotp({
        userId: user.id,
        secret: 'JBSWY3DPEHPK3PXP',
        secretEncryption: 'none',
        createdAt: T0,
      });
    }
    // Under a key that is neither current nor previous, the first key opens not: nothing is written.
    const before = await storage.signingKeys.listAll();
    const refused = await resealSecrets(
      {
        signingKeys: storage.signingKeys,
        mfa: storage.mfa,
        encryption: new KeyEncryption(randomBytes(32), randomBytes(32)),
      },
      { dryRun: false },
    );
    assert.deepEqual(refused, { ok: false, unopenable: [`signing key ${first.kid}`] });
    assert.deepEqual(await storage.signingKeys.listAll(), before);

    // With the old key as previous it opens. Just before the writes, another process rewrote the
    // first key's row and user a re-enrolled (under the current key, as an instance would): both
    // are left as they were written.
    const encryption = new KeyEncryption(randomBytes(32), oldKey);
    const [userA, userB] = users;
    const signingKeys = signingKeysWith(storage.signingKeys, {
      replacePrivateKeys: async (changes) => {
        await storage.signingKeys.replacePrivateKeys([
          { ...changes[0]!, privateKey: encryption.seal(Buffer.from('elsewhere'), first.kid) },
        ]);
        await storage.mfa.deleteTotp(userA!.id);
        await storage.mfa.startTotp({
          userId: userA!.id,
          secret: 'v1.re-enrolled',
          secretEncryption: 'aes-256-gcm',
          createdAt: T0,
        });
        return storage.signingKeys.replacePrivateKeys(changes);
      },
    });
    const outcome = await resealSecrets(
      { signingKeys, mfa: storage.mfa, encryption },
      { dryRun: false },
    );
    assert.deepEqual(outcome, {
      ok: true,
      signingKeys: { resealed: 1, alreadyCurrent: 0, changedMeanwhile: 1 },
      totpSecrets: { resealed: 1, alreadyCurrent: 0, changedMeanwhile: 1 },
    });
    const [firstAfter, secondAfter] = await storage.signingKeys.listAll();
    assert.deepEqual(encryption.open(firstAfter!.privateKey, first.kid), Buffer.from('elsewhere'));
    assert.equal(encryption.openWithKey(secondAfter!.privateKey, secondAfter!.kid)?.key, 'current');
    assert.equal((await storage.mfa.findTotp(userA!.id))?.secret, 'v1.re-enrolled');
    assert.equal((await storage.mfa.findTotp(userB!.id))?.secretEncryption, 'aes-256-gcm');
  });
});

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { newSigningKey } from '../../src/domain/tokens/key-material.ts';
import type { StoredSigningKey } from '../../src/domain/tokens/signing-key-repository.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = new Date('2031-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** The SigningKeyRepository port's contract, run against every store (storage.test.ts). */
export function signingKeyRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  const active = async (alg: StoredSigningKey['alg']) =>
    (await storage.signingKeys.listUsable(alg, T0)).filter((k) => k.retiredAt === null);

  it('keeps ONE active key when 8 first starts race on an empty store', async () => {
    const candidates = await Promise.all(
      Array.from({ length: 8 }, () => newSigningKey('EdDSA', T0, undefined)),
    );
    const winners = await Promise.all(
      candidates.map((c) => storage.signingKeys.insertIfNoneActive(c)),
    );
    assert.equal(new Set(winners.map((w) => w.kid)).size, 1, 'every caller sees the same key');
    const [only] = await active('EdDSA');
    assert.equal((await active('EdDSA')).length, 1);
    assert.equal(only?.kid, winners[0]?.kid);
    // The key round-trips exactly.
    const sent = candidates.find((c) => c.kid === only?.kid);
    assert.deepEqual(only, sent);
  });

  it('rotates once of 6 concurrent rotations from the same key, keeping the old one retired', async () => {
    const [current] = await active('EdDSA');
    assert.ok(current);
    const candidates = await Promise.all(
      Array.from({ length: 6 }, () => newSigningKey('EdDSA', at(60), undefined)),
    );
    const results = await Promise.all(
      candidates.map((c) => storage.signingKeys.rotate(current.kid, c)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const now = await active('EdDSA');
    assert.equal(now.length, 1);
    assert.equal(now[0]?.kid, candidates[results.indexOf(true)]?.kid);
    const old = (await storage.signingKeys.listAll()).find((k) => k.kid === current.kid);
    assert.deepEqual(old?.retiredAt, at(60));
    // A rotation from a key that is no longer active changes nothing.
    const late = await newSigningKey('EdDSA', at(61), undefined);
    assert.equal(await storage.signingKeys.rotate(current.kid, late), false);
    assert.equal(
      (await storage.signingKeys.listAll()).some((k) => k.kid === late.kid),
      false,
    );
  });

  it('lists the usable keys of one algorithm: active, and retired after the cut-off', async () => {
    const es = await storage.signingKeys.insertIfNoneActive(
      await newSigningKey('ES256', T0, undefined),
    );
    const usable = await storage.signingKeys.listUsable('EdDSA', at(59));
    assert.equal(usable.length, 2, 'the active key and the one retired at T0+60');
    assert.ok(usable.every((k) => k.alg === 'EdDSA'));
    assert.equal((await storage.signingKeys.listUsable('EdDSA', at(60))).length, 1);
    assert.ok((await storage.signingKeys.listAll()).some((k) => k.kid === es.kid));
  });

  it('deletes only keys retired before the cut-off', async () => {
    assert.equal(await storage.signingKeys.deleteRetiredBefore(at(60)), 0);
    assert.equal(await storage.signingKeys.deleteRetiredBefore(at(61)), 1);
    const all = await storage.signingKeys.listAll();
    assert.ok(
      all.every((k) => k.retiredAt === null),
      'active keys are never deleted',
    );
    assert.equal(all.length, 2);
  });

  it('names the active kid of an algorithm, follows a rotation at once, and none for an algorithm without keys', async () => {
    const [current] = await active('EdDSA');
    assert.ok(current);
    assert.equal(await storage.signingKeys.activeKid('EdDSA'), current.kid);
    const [es] = await active('ES256');
    assert.ok(es);
    assert.equal(await storage.signingKeys.activeKid('ES256'), es.kid);
    assert.equal(await storage.signingKeys.activeKid('RS256'), undefined);
    const next = await newSigningKey('EdDSA', at(120), undefined);
    assert.equal(await storage.signingKeys.rotate(current.kid, next), true);
    assert.equal(await storage.signingKeys.activeKid('EdDSA'), next.kid, 'the rotated-to key');
    // Eight at once, as concurrent signers on one instance would ask.
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => storage.signingKeys.activeKid('EdDSA')),
    );
    assert.deepEqual(new Set(answers), new Set([next.kid]));
  });

  it('deletes one retired key by kid (a withdrawal), never an active key, and nothing for an unknown kid', async () => {
    const [current] = await active('EdDSA');
    assert.ok(current);
    const next = await newSigningKey('EdDSA', at(180), undefined);
    assert.equal(await storage.signingKeys.rotate(current.kid, next), true);
    const before = await storage.signingKeys.listAll();

    assert.equal(await storage.signingKeys.deleteRetired(next.kid), false, 'the active key stays');
    assert.equal(await storage.signingKeys.deleteRetired('x'.repeat(43)), false, 'unknown kid');
    assert.deepEqual(await storage.signingKeys.listAll(), before, 'nothing changed');

    // Four withdrawals of the same key at once: exactly one deletes it.
    const results = await Promise.all(
      Array.from({ length: 4 }, () => storage.signingKeys.deleteRetired(current.kid)),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const after = await storage.signingKeys.listAll();
    assert.deepEqual(
      after.map((k) => k.kid),
      before.filter((k) => k.kid !== current.kid).map((k) => k.kid),
      'only that key is gone',
    );
    assert.equal(await storage.signingKeys.activeKid('EdDSA'), next.kid);
    assert.equal(
      (await storage.signingKeys.listUsable('EdDSA', T0)).some((k) => k.kid === current.kid),
      false,
      'no longer usable',
    );
  });

  it('replaces private keys only while a row still holds the old one, touching nothing else (gatehouse reseal)', async () => {
    const before = await storage.signingKeys.listAll();
    const [first, second] = before;
    assert.ok(first && second);
    const replaced = await storage.signingKeys.replacePrivateKeys([
      {
        kid: first.kid,
        fromPrivateKey: first.privateKey,
        privateKey: 'v1.resealed',
        encryption: 'aes-256-gcm',
      },
      // Changed since it was read: left as it is.
      { kid: second.kid, fromPrivateKey: 'stale', privateKey: 'v1.x', encryption: 'aes-256-gcm' },
      { kid: 'y'.repeat(43), fromPrivateKey: 'z', privateKey: 'v1.z', encryption: 'aes-256-gcm' },
    ]);
    assert.equal(replaced, 1);
    const after = await storage.signingKeys.listAll();
    assert.deepEqual(
      after,
      before.map((k) =>
        k.kid === first.kid ? { ...k, privateKey: 'v1.resealed', encryption: 'aes-256-gcm' } : k,
      ),
    );
    assert.equal(await storage.signingKeys.replacePrivateKeys([]), 0);
  });
}

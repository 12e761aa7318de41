import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
// A unit test of the domain against the real store (STYLE.md: no fakes of the store); the
// domain code itself still imports nothing of storage/.
// eslint-disable-next-line no-restricted-imports
import { openStorage, type Storage } from '../../storage/open-storage.ts';
import { ManualClock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { AccessTokens } from './access-tokens.ts';
import { KEY_SET_MAX_AGE_SECONDS, KeyRing } from './key-ring.ts';
import { newSigningKey } from './key-material.ts';
import { signingKeysWith } from '../../../test/support/signing-key-overrides.ts';

const SETTINGS = {
  alg: 'EdDSA' as const,
  accessTokenTtlSeconds: 600,
  clockToleranceSeconds: 5,
  rotationDays: 0,
};

describe('KeyRing.withdraw and the re-read of known keys', () => {
  const opened: Storage[] = [];
  after(() => Promise.all(opened.map((s) => s.close())));

  /**
   * `ring`: a server instance whose key-set reads are counted and can fail; `other`: the CLI
   * (or another instance) on the same store, with the same clock.
   */
  async function twoRings() {
    const storage = await openStorage('sqlite::memory:');
    opened.push(storage);
    await storage.migrate();
    const inner = storage.signingKeys;
    const state = { reads: 0, down: false };
    const repository = signingKeysWith(inner, {
      listUsable: async (alg, after) => {
        state.reads += 1;
        if (state.down) throw new Error('store unavailable');
        return inner.listUsable(alg, after);
      },
    });
    const clock = new ManualClock();
    const ring = await KeyRing.open({ repository, clock, encryption: undefined }, SETTINGS);
    const other = await KeyRing.open({ repository: inner, clock, encryption: undefined }, SETTINGS);
    return { ring, other, inner, clock, state };
  }

  const kidOfToken = (token: string) =>
    (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  const kidsOf = async (ring: KeyRing) => (await ring.publicJwks()).map((jwk) => jwk.kid).sort();

  it(`refuses a withdrawn retired key ${KEY_SET_MAX_AGE_SECONDS} s later on an instance that had it loaded, and stops publishing it`, async () => {
    const { ring, other, clock } = await twoRings();
    const oldKid = (await ring.signer()).kid;
    const { kid: newKid } = await other.rotate();
    assert.equal((await ring.signer()).kid, newKid, 'the ring has loaded both keys');
    assert.ok(await ring.verificationKey(oldKid));
    assert.deepEqual(await kidsOf(ring), [oldKid, newKid].sort());

    assert.deepEqual(await other.withdraw(oldKid), { kid: oldKid, replacedBy: undefined });
    assert.equal(await other.verificationKey(oldKid), undefined, 'at once where it was withdrawn');

    clock.advance(KEY_SET_MAX_AGE_SECONDS);
    assert.equal(await ring.verificationKey(oldKid), undefined, 'refused once the bound passed');
    assert.ok(await ring.verificationKey(newKid), 'the active key still verifies');
    assert.deepEqual(await kidsOf(ring), [newKid]);
    assert.equal((await ring.signer()).kid, newKid);
  });

  it(`re-reads for known kids at most once per ${KEY_SET_MAX_AGE_SECONDS} s, one read shared by concurrent verifications`, async () => {
    const { ring, clock, state } = await twoRings();
    const kid = (await ring.signer()).kid;
    const [readsBefore, countedBefore] = [state.reads, ring.storeReads];
    const verify20 = () => Promise.all(Array.from({ length: 20 }, () => ring.verificationKey(kid)));

    assert.ok((await verify20()).every(Boolean));
    assert.equal(state.reads - readsBefore, 0, 'none while the key set is fresh');
    clock.advance(KEY_SET_MAX_AGE_SECONDS - 1);
    assert.ok((await verify20()).every(Boolean));
    assert.equal(state.reads - readsBefore, 0);
    clock.advance(1);
    assert.ok((await verify20()).every(Boolean));
    assert.equal(state.reads - readsBefore, 1, 'one read for 20 verifications');
    assert.equal(ring.storeReads - countedBefore, 1, '/metrics counts it');
  });

  it(`refuses a token that verified before, once its key is withdrawn, ${KEY_SET_MAX_AGE_SECONDS} s later (the verified-token cache asks the ring again)`, async () => {
    const { ring, other, clock } = await twoRings();
    const settings = { issuer: 'gatehouse', audience: 'gatehouse', ttlSeconds: 600 };
    const tokens = new AccessTokens(ring, { ...settings, clockToleranceSeconds: 5 }, clock);
    const subject = { userId: 7, sessionId: 'a-session', scope: 'me' };
    const { token } = await tokens.issue(subject);
    assert.equal((await tokens.verify(token)).userId, 7);
    assert.equal(tokens.verifiedBefore(token, clock.now())?.userId, 7, 'cached');
    await other.withdraw(kidOfToken(token));

    clock.advance(KEY_SET_MAX_AGE_SECONDS - 1);
    assert.equal(tokens.verifiedBefore(token, clock.now())?.userId, 7, 'within the bound');
    clock.advance(1);
    assert.equal(tokens.verifiedBefore(token, clock.now()), undefined, 'past it, no answer');
    await assert.rejects(
      tokens.verify(token),
      (e) => e instanceof GatehouseError && e.code === 'invalid_token',
    );
    assert.equal(tokens.verifiedBefore(token, clock.now()), undefined, 'forgotten');
    // A token of the new key verifies, and is answered from the cache while the set is fresh.
    const { token: fresh } = await tokens.issue(subject);
    assert.notEqual(kidOfToken(fresh), kidOfToken(token));
    assert.equal((await tokens.verify(fresh)).userId, 7);
    assert.equal(tokens.verifiedBefore(fresh, clock.now())?.userId, 7);
  });

  it('keeps verifying with the cached keys while the re-read fails, trying again only after the bound', async () => {
    const { ring, other, clock, state } = await twoRings();
    const kid = (await ring.signer()).kid;
    const { kid: newKid } = await other.rotate();
    assert.equal((await ring.signer()).kid, newKid, 'the ring has loaded both keys');

    state.down = true;
    clock.advance(KEY_SET_MAX_AGE_SECONDS);
    const readsBefore = state.reads;
    assert.ok(await ring.verificationKey(kid), 'a failed read refuses no valid token');
    assert.ok(await ring.verificationKey(newKid));
    assert.equal(state.reads - readsBefore, 1, 'one attempt');
    clock.advance(KEY_SET_MAX_AGE_SECONDS - 1);
    assert.ok(await ring.verificationKey(kid));
    assert.equal(state.reads - readsBefore, 1, 'a failing store is not hammered');

    // The store is back, and the old key has been withdrawn meanwhile.
    await other.withdraw(kid);
    state.down = false;
    clock.advance(1);
    assert.equal(await ring.verificationKey(kid), undefined);
    assert.equal(state.reads - readsBefore, 2);
  });

  it('withdraws the active key by rotating first: every ring signs with the new key at once', async () => {
    const { ring, other, inner, clock } = await twoRings();
    const oldKid = (await other.signer()).kid;
    assert.ok(await ring.verificationKey(oldKid));

    const withdrawal = await other.withdraw(oldKid);
    assert.ok(withdrawal?.replacedBy);
    assert.notEqual(withdrawal.replacedBy, oldKid);
    assert.equal(await inner.activeKid('EdDSA'), withdrawal.replacedBy);
    assert.equal((await other.signer()).kid, withdrawal.replacedBy);
    assert.equal((await ring.signer()).kid, withdrawal.replacedBy, 'the signer check sees it');
    assert.equal(await other.verificationKey(oldKid), undefined);
    assert.equal((await inner.listAll()).length, 1, 'the store keeps nothing of the old key');

    clock.advance(KEY_SET_MAX_AGE_SECONDS);
    assert.equal(await ring.verificationKey(oldKid), undefined);
    assert.deepEqual(await kidsOf(ring), [withdrawal.replacedBy]);
  });

  it('of concurrent withdrawals of the active key, one rotates; all report the same new key', async () => {
    const { ring, other, inner } = await twoRings();
    const oldKid = (await ring.signer()).kid;
    const results = await Promise.all([ring.withdraw(oldKid), other.withdraw(oldKid)]);
    const [newKid] = (await inner.listAll()).map((k) => k.kid);
    assert.equal((await inner.listAll()).length, 1, 'one new key, the old one gone');
    assert.notEqual(newKid, oldKid);
    assert.deepEqual(results, [
      { kid: oldKid, replacedBy: newKid },
      { kid: oldKid, replacedBy: newKid },
    ]);
  });

  it('answers undefined for an unknown kid, changing nothing', async () => {
    const { other, inner } = await twoRings();
    const before = await inner.listAll();
    assert.equal(await other.withdraw('x'.repeat(43)), undefined);
    assert.equal(await other.withdraw('not-a-kid'), undefined);
    assert.deepEqual(await inner.listAll(), before);
  });

  it("withdraws another algorithm's active key by replacing it in that algorithm", async () => {
    const { other, inner } = await twoRings();
    const edKid = (await other.signer()).kid;
    const es = await inner.insertIfNoneActive(await newSigningKey('ES256', new Date(), undefined));

    const withdrawal = await other.withdraw(es.kid);
    const esNow = await inner.activeKid('ES256');
    assert.ok(esNow);
    assert.notEqual(esNow, es.kid);
    assert.deepEqual(withdrawal, { kid: es.kid, replacedBy: esNow });
    assert.equal((await inner.listAll()).find((k) => k.kid === esNow)?.alg, 'ES256');
    assert.equal(
      (await inner.listAll()).some((k) => k.kid === es.kid),
      false,
    );
    assert.equal(await inner.activeKid('EdDSA'), edKid, 'the configured algorithm is untouched');
  });
});

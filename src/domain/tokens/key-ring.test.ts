import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
// A unit test of the domain against the real store (STYLE.md: no fakes of the store); the
// domain code itself still imports nothing of storage/.
// eslint-disable-next-line no-restricted-imports
import { openStorage, type Storage } from '../../storage/open-storage.ts';
import { ManualClock } from '../clock.ts';
import { KeyRing } from './key-ring.ts';
import type { StoredSigningKey } from './signing-key-repository.ts';
import { signingKeysWith } from '../../../test/support/signing-key-overrides.ts';

const SETTINGS = {
  alg: 'EdDSA' as const,
  accessTokenTtlSeconds: 600,
  clockToleranceSeconds: 5,
  rotationDays: 0,
};

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('KeyRing.rotate', () => {
  const opened: Storage[] = [];
  after(() => Promise.all(opened.map((s) => s.close())));

  it('returns the new kid even when a read of the old key set was in flight during the write', async () => {
    const storage = await openStorage('sqlite::memory:');
    opened.push(storage);
    await storage.migrate();
    const inner = storage.signingKeys;
    const clock = new ManualClock();
    // Pauses the next rotation's write and the next read's answer until told.
    let readGate: ReturnType<typeof gate> | undefined;
    let pauseWrite = Promise.resolve();
    let writeStarted = () => {};
    const repository = signingKeysWith(inner, {
      listUsable: async (alg, after) => {
        const snapshot = await inner.listUsable(alg, after);
        const pending = readGate;
        readGate = undefined;
        await pending?.opened;
        return snapshot;
      },
      rotate: async (kid: string, candidate: StoredSigningKey) => {
        writeStarted();
        await pauseWrite;
        return inner.rotate(kid, candidate);
      },
    });
    const ring = await KeyRing.open({ repository, clock, encryption: undefined }, SETTINGS);
    const oldKid = (await ring.signer()).kid;

    const writeGate = gate();
    pauseWrite = writeGate.opened;
    const writing = new Promise<void>((resolve) => (writeStarted = resolve));
    const rotation = ring.rotate();
    await writing;
    // While the write waits, a JWKS request starts a read that sees the old set...
    clock.advance(10);
    const staleRead = gate();
    readGate = staleRead;
    const jwks = ring.publicJwks();
    // ...the write commits, and only then does that stale read answer.
    writeGate.open();
    await new Promise((resolve) => setTimeout(resolve, 20));
    staleRead.open();
    const { kid, rotated } = await rotation;
    await jwks;

    assert.equal(rotated, true);
    assert.notEqual(kid, oldKid);
    assert.equal((await ring.signer()).kid, kid, 'signs with the new key at once');
    const [active] = (await inner.listAll()).filter((k) => k.retiredAt === null);
    assert.equal(kid, active?.kid);
  });
});

describe('KeyRing.signer', () => {
  const opened: Storage[] = [];
  after(() => Promise.all(opened.map((s) => s.close())));

  /** A ring on a fresh store whose active-kid checks are counted and can be held back. */
  async function ringWithCheckGate() {
    const storage = await openStorage('sqlite::memory:');
    opened.push(storage);
    await storage.migrate();
    const inner = storage.signingKeys;
    const state = { checks: 0, hold: undefined as Promise<void> | undefined };
    const repository = signingKeysWith(inner, {
      // Reads the store first, then waits: an answer taken before whatever happens meanwhile.
      activeKid: async (alg) => {
        state.checks += 1;
        const kid = await inner.activeKid(alg);
        await state.hold;
        return kid;
      },
    });
    const clock = new ManualClock();
    const ring = await KeyRing.open({ repository, clock, encryption: undefined }, SETTINGS);
    // Another instance (or the CLI) on the same store.
    const other = await KeyRing.open({ repository: inner, clock, encryption: undefined }, SETTINGS);
    return { ring, other, state };
  }

  it('signs with a key rotated by another instance on its very next signature', async () => {
    const { ring, other } = await ringWithCheckGate();
    const oldKid = (await ring.signer()).kid;
    const readsBefore = ring.storeReads;
    const { kid: newKid } = await other.rotate();
    assert.notEqual(newKid, oldKid);
    assert.equal((await ring.signer()).kid, newKid);
    assert.equal(ring.storeReads - readsBefore, 1, 'one re-read of the key set');
    assert.equal((await ring.signer()).kid, newKid);
    assert.equal(ring.storeReads - readsBefore, 1, 'none while the active kid is unchanged');
  });

  it('shares one check among concurrent signers, and never hands a later caller an answer read before it came', async () => {
    const { ring, other, state } = await ringWithCheckGate();
    const oldKid = (await ring.signer()).kid;
    const held = gate();
    state.hold = held.opened;
    const checksBefore = state.checks;
    // The first signer's check has read the store and is still in flight...
    const early = ring.signer();
    await new Promise((resolve) => setImmediate(resolve));
    // ...when a rotation commits, and then 20 more signers arrive.
    const { kid: newKid } = await other.rotate();
    const late = Array.from({ length: 20 }, () => ring.signer());
    state.hold = undefined;
    held.open();

    assert.equal((await early).kid, oldKid, 'its check started before the rotation');
    const lateKids = new Set((await Promise.all(late)).map((signer) => signer.kid));
    assert.deepEqual(lateKids, new Set([newKid]), 'every later signer signs with the new key');
    assert.equal(state.checks - checksBefore, 2, 'the one in flight, and one shared by the 20');
  });
});

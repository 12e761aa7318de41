import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
// A unit test of the domain against the real store (STYLE.md: no fakes of the store); the
// domain code itself still imports nothing of storage/.
// eslint-disable-next-line no-restricted-imports
import { openStorage, type Storage } from '../../storage/open-storage.ts';
import { ManualClock } from '../clock.ts';
import { KeyRing } from './key-ring.ts';
import type { SigningKeyRepository, StoredSigningKey } from './signing-key-repository.ts';

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
    const repository: SigningKeyRepository = {
      listUsable: async (alg, after) => {
        const snapshot = await inner.listUsable(alg, after);
        const pending = readGate;
        readGate = undefined;
        await pending?.opened;
        return snapshot;
      },
      listAll: () => inner.listAll(),
      insertIfNoneActive: (candidate) => inner.insertIfNoneActive(candidate),
      rotate: async (kid: string, candidate: StoredSigningKey) => {
        writeStarted();
        await pauseWrite;
        return inner.rotate(kid, candidate);
      },
      deleteRetiredBefore: (cutoff) => inner.deleteRetiredBefore(cutoff),
    };
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

import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
// A unit test of the domain against the real store (STYLE.md: no fakes of the store); the
// domain code itself still imports nothing of storage/.
// eslint-disable-next-line no-restricted-imports
import { openStorage, type Storage } from '../../storage/open-storage.ts';
import { ManualClock } from '../clock.ts';
import { AccessTokens } from './access-tokens.ts';
import { resolveSigningKey } from './signing-key.ts';

const CONFIGURED = 'configured-secret-configured-secret-0123456789';
const SETTINGS = {
  issuer: 'gatehouse',
  audience: 'gatehouse',
  ttlSeconds: 900,
  clockToleranceSeconds: 5,
};

async function openMigrated(url: string): Promise<Storage> {
  const storage = await openStorage(url);
  await storage.migrate();
  return storage;
}

describe('resolveSigningKey', () => {
  const opened: Storage[] = [];
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(opened.map((s) => s.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  async function memoryStore(): Promise<Storage> {
    const storage = await openMigrated('sqlite::memory:');
    opened.push(storage);
    return storage;
  }

  it('uses the configured secret as the key', async () => {
    const storage = await memoryStore();
    const key = await resolveSigningKey(CONFIGURED, storage.settings);
    assert.equal(key.type, 'secret');
    assert.ok(key.equals(createSecretKey(Buffer.from(CONFIGURED, 'utf8'))));
  });

  it('does not store a generated secret when one is configured', async () => {
    const storage = await memoryStore();
    await resolveSigningKey(CONFIGURED, storage.settings);
    const generated = await resolveSigningKey(undefined, storage.settings);
    assert.ok(!generated.equals(createSecretKey(Buffer.from(CONFIGURED, 'utf8'))));
    // Had the first call stored anything, this candidate would lose to it.
    assert.equal(
      await storage.settings.getOrInsert('jwt_signing_secret', 'probe'),
      generated.export().toString('utf8'),
    );
  });

  it('without a configured secret, generates a 256-bit one and returns the same one next time', async () => {
    const storage = await memoryStore();
    const first = await resolveSigningKey(undefined, storage.settings);
    const second = await resolveSigningKey(undefined, storage.settings);
    assert.ok(first.equals(second));
    // RFC 7518 3.2: at least 256 bits of key.
    assert.ok(first.symmetricKeySize !== undefined && first.symmetricKeySize >= 32);
  });

  it('generates a different secret for each new store', async () => {
    const a = await resolveSigningKey(undefined, (await memoryStore()).settings);
    const b = await resolveSigningKey(undefined, (await memoryStore()).settings);
    assert.ok(!a.equals(b));
  });

  it('gives every concurrent caller the same generated secret', async () => {
    const storage = await memoryStore();
    const keys = await Promise.all(
      Array.from({ length: 5 }, () => resolveSigningKey(undefined, storage.settings)),
    );
    for (const key of keys) assert.ok(key.equals(keys[0]!));
  });

  it('keeps the generated secret across a restart, so issued tokens still verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-signing-key-'));
    dirs.push(dir);
    const url = `sqlite:${join(dir, 'gatehouse.db')}`;
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));

    const before = await openMigrated(url);
    const issuer = new AccessTokens(
      await resolveSigningKey(undefined, before.settings),
      SETTINGS,
      clock,
    );
    const { token } = await issuer.issue({ userId: 7, sessionId: 'session-1', scope: 'me' });
    await before.close();

    const restarted = await openMigrated(url);
    opened.push(restarted);
    const verifier = new AccessTokens(
      await resolveSigningKey(undefined, restarted.settings),
      SETTINGS,
      clock,
    );
    assert.equal((await verifier.verify(token)).userId, 7);
  });
});

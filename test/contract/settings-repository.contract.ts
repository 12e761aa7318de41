import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Storage } from '../../src/storage/open-storage.ts';

/** The SettingsRepository port's contract, run against every store (storage.test.ts). */
export function settingsRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  it('stores the first value and keeps it', async () => {
    assert.equal(await storage.settings.getOrInsert('k1', 'first'), 'first');
    assert.equal(await storage.settings.getOrInsert('k1', 'second'), 'first');
  });

  it('gives every one of 10 concurrent callers the same value', async () => {
    const values = await Promise.all(
      Array.from({ length: 10 }, (_, i) => storage.settings.getOrInsert('k2', `candidate-${i}`)),
    );
    assert.equal(new Set(values).size, 1);
    assert.match(values[0] ?? '', /^candidate-\d$/);
    assert.equal(await storage.settings.getOrInsert('k2', 'late'), values[0]);
  });

  it('keeps each key apart', async () => {
    assert.equal(await storage.settings.getOrInsert('k3', 'three'), 'three');
    assert.equal(await storage.settings.getOrInsert('k4', 'four'), 'four');
    assert.equal(await storage.settings.getOrInsert('k3', 'other'), 'three');
  });
}

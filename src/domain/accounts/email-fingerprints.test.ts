import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmailFingerprints } from './email-fingerprints.ts';

describe('EmailFingerprints', () => {
  it('answers the first line of an email seen before, and undefined for a new one, as it grows', () => {
    const seen = new EmailFingerprints();
    // Past several doublings of the table (1024 slots to start).
    for (let i = 0; i < 20_000; i++)
      assert.equal(seen.firstLine(`u${i}@example.com`, i + 1), undefined);
    for (let i = 0; i < 20_000; i += 997)
      assert.equal(seen.firstLine(`u${i}@example.com`, 99_999), i + 1);
    assert.equal(seen.firstLine('new@example.com', 20_001), undefined);
  });
});

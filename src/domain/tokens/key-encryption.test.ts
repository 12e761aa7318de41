import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyEncryption } from './key-material.ts';

const A = randomBytes(32);
const B = randomBytes(32);
const C = randomBytes(32);
const SECRET = Buffer.from('a private key, in DER');

describe('KeyEncryption while the key is being changed (current, then previous)', () => {
  it('opens what the previous key sealed, and seals only under the current key', () => {
    const underA = new KeyEncryption(A).seal(SECRET, 'kid-1');
    const changing = new KeyEncryption(B, A);
    assert.deepEqual(changing.open(underA, 'kid-1'), SECRET);
    assert.equal(changing.openWithKey(underA, 'kid-1')?.key, 'previous');
    const resealed = changing.seal(SECRET, 'kid-1');
    assert.equal(changing.openWithKey(resealed, 'kid-1')?.key, 'current');
    // The new seal is B's alone: B opens it without A, A not at all.
    assert.deepEqual(new KeyEncryption(B).open(resealed, 'kid-1'), SECRET);
    assert.throws(() => new KeyEncryption(A).open(resealed, 'kid-1'));
  });

  it('opens nothing sealed under a third key, or for another kid', () => {
    const changing = new KeyEncryption(B, A);
    const underC = new KeyEncryption(C).seal(SECRET, 'kid-1');
    assert.equal(changing.openWithKey(underC, 'kid-1')?.key, undefined);
    assert.throws(() => changing.open(underC, 'kid-1'));
    const underA = new KeyEncryption(A).seal(SECRET, 'kid-1');
    assert.equal(changing.openWithKey(underA, 'kid-2')?.key, undefined);
    assert.equal(changing.openWithKey('not sealed', 'kid-1')?.key, undefined);
  });

  it('says whether a previous key is set (for the error that names both variables)', () => {
    assert.equal(new KeyEncryption(B).hasPrevious, false);
    assert.equal(new KeyEncryption(B, A).hasPrevious, true);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  generateRefreshToken,
  hashRefreshToken,
  openSealedChild,
  sealChild,
} from './refresh-token.ts';

describe('sealing the child of a rotation under its parent', () => {
  it('opens with the parent and gives back the child', () => {
    const parent = generateRefreshToken();
    const child = generateRefreshToken();
    assert.equal(openSealedChild(sealChild(child, parent), parent), child);
  });

  it('does not open with another token, nor with the parent hash a copy of the table holds', () => {
    const parent = generateRefreshToken();
    const sealed = sealChild(generateRefreshToken(), parent);
    assert.equal(openSealedChild(sealed, generateRefreshToken()), undefined);
    assert.equal(openSealedChild(sealed, hashRefreshToken(parent)), undefined);
  });

  it('refuses a damaged or truncated seal instead of throwing', () => {
    const parent = generateRefreshToken();
    const sealed = sealChild(generateRefreshToken(), parent);
    const flipped = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    assert.equal(openSealedChild(flipped, parent), undefined);
    assert.equal(openSealedChild(sealed.slice(0, 20), parent), undefined);
    assert.equal(openSealedChild('', parent), undefined);
  });

  it('never shows the child in the seal', () => {
    const child = generateRefreshToken();
    const sealed = sealChild(child, generateRefreshToken());
    assert.ok(!sealed.includes(child));
    assert.ok(!Buffer.from(sealed, 'base64url').toString('latin1').includes(child));
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashMailToken, isMailTokenShape, newMailToken } from './mail-token.ts';
import { mailLink } from './mail-draft.ts';

describe('mail tokens', () => {
  it('are 256 random bits, base64url, and stored as their SHA-256 (hex)', () => {
    const { token, hash } = newMailToken();
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.ok(isMailTokenShape(token));
    assert.equal(hash, createHash('sha256').update(token).digest('hex'));
    assert.equal(hashMailToken(token), hash);
    assert.notEqual(newMailToken().token, token);
  });

  it('refuse, by shape, anything that is not one of ours', () => {
    for (const bad of [
      '',
      'short',
      'A'.repeat(42),
      'A'.repeat(44),
      `${'A'.repeat(42)}=`,
      `${'A'.repeat(42)}+`,
    ]) {
      assert.equal(isMailTokenShape(bad), false, bad);
    }
  });

  it('travel in the fragment of an absolute link to the web UI', () => {
    const link = mailLink('https://id.example.com', 'reset-password', 'abc_-1');
    assert.equal(link, 'https://id.example.com/#/reset-password?token=abc_-1');
    assert.equal(new URL(link).search, '', 'nothing in the query a server would see');
  });
});

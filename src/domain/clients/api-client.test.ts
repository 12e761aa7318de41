import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../errors.ts';
import {
  generateClientId,
  generateClientSecret,
  hashClientSecret,
  secretMatches,
} from './api-client.ts';
import { validateClientName } from './api-clients.ts';

describe('API client credentials', () => {
  it('generates gh_ + 128-bit ids and 256-bit secrets, all distinct', () => {
    const ids = new Set(Array.from({ length: 100 }, generateClientId));
    const secrets = new Set(Array.from({ length: 100 }, generateClientSecret));
    assert.equal(ids.size, 100);
    assert.equal(secrets.size, 100);
    for (const id of ids) assert.match(id, /^gh_[A-Za-z0-9_-]{22}$/);
    for (const secret of secrets) {
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(secret, 'base64url').length, 32);
    }
  });

  it('stores a SHA-256 that is not the secret and matches only the secret', () => {
    const secret = generateClientSecret();
    const stored = hashClientSecret(secret);
    assert.match(stored, /^[0-9a-f]{64}$/);
    assert.equal(stored.includes(secret), false);
    assert.equal(secretMatches(secret, stored), true);
    assert.equal(secretMatches(`${secret}x`, stored), false);
    assert.equal(secretMatches('', stored), false);
    // A damaged stored hash (wrong length) is no match, never an exception.
    assert.equal(secretMatches(secret, stored.slice(0, 10)), false);
  });

  it('trims names and refuses empty, over-long and control-character names', () => {
    assert.equal(validateClientName('  billing api \t'), 'billing api');
    assert.equal(validateClientName('x'.repeat(100)), 'x'.repeat(100));
    for (const bad of ['', '   ', 'x'.repeat(101), 'a\nb', 'a\u0000b', 'a\u2028b', 'a\u009bb']) {
      assert.throws(
        () => validateClientName(bad),
        (e) => isGatehouseError(e, 'invalid_input') && e.field === 'name',
        JSON.stringify(bad),
      );
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatehouseError } from './errors.ts';
import { isEmailAddress, normalizeEmail, parseEmail } from './email-address.ts';

function assertRefused(raw: string, message?: RegExp): void {
  assert.throws(
    () => parseEmail(raw),
    (error: unknown) => {
      assert.ok(
        error instanceof GatehouseError,
        `expected a GatehouseError for ${JSON.stringify(raw)}`,
      );
      assert.equal(error.code, 'invalid_input');
      assert.equal(error.field, 'email');
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

describe('parseEmail', () => {
  it('accepts ordinary addresses', () => {
    for (const email of [
      'alice@example.com',
      'bob.smith@mail.example.co.uk',
      'carol+gatehouse@example.org',
      "o'brien@example.ie",
      'user_name-1@sub-domain.example.com',
      '1234@example.com',
    ]) {
      assert.equal(parseEmail(email), email);
    }
  });

  it('keeps the letter case the user typed', () => {
    assert.equal(parseEmail('Alice.Smith@Example.COM'), 'Alice.Smith@Example.COM');
  });

  it('trims surrounding whitespace', () => {
    assert.equal(parseEmail('  alice@example.com\t\n'), 'alice@example.com');
  });

  it('refuses an address without @', () => {
    assertRefused('alice.example.com', /email address like name@example\.com/);
    assertRefused('alice');
  });

  it('refuses an empty or blank address', () => {
    assertRefused('');
    assertRefused('   ');
  });

  it('refuses an address without a local part or a domain', () => {
    assertRefused('@example.com');
    assertRefused('alice@');
    assertRefused('alice@@example.com');
  });

  it('refuses an address with a domain that has no dot', () => {
    assertRefused('alice@localhost');
  });

  it('refuses spaces inside the address', () => {
    for (const raw of [
      'alice smith@example.com',
      'alice@exa mple.com',
      'alice @example.com',
      'alice@ example.com',
    ]) {
      assertRefused(raw);
    }
  });

  it('refuses addresses longer than 254 characters and says so', () => {
    const domain = `${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.example.com`;
    const atLimit = `${'a'.repeat(254 - domain.length - 1)}@${domain}`;
    assert.equal(atLimit.length, 254);
    assert.equal(parseEmail(atLimit), atLimit);
    assertRefused(`a${atLimit}`, /at most 254 characters/);
  });

  it('refuses a local part longer than 64 characters and says so', () => {
    const local64 = `${'a'.repeat(64)}@example.com`;
    assert.equal(parseEmail(local64), local64);
    assertRefused(`${'a'.repeat(65)}@example.com`, /at most 64 characters before the @/);
  });
});

describe('normalizeEmail', () => {
  it('lower-cases the address', () => {
    assert.equal(normalizeEmail('Alice.Smith@Example.COM'), 'alice.smith@example.com');
  });

  it('trims, so a padded address maps to the same account', () => {
    assert.equal(normalizeEmail('  Alice@Example.com '), 'alice@example.com');
  });

  it('maps the addresses API.md 1 calls one account to one form', () => {
    assert.equal(normalizeEmail('Alice@Example.com'), normalizeEmail('alice@example.com'));
  });

  it('normalises Unicode, so composed and decomposed forms are one account', () => {
    assert.equal(normalizeEmail('Jose\u0301@example.com'), normalizeEmail('jos\u00e9@example.com'));
  });

  it('is idempotent', () => {
    const once = normalizeEmail(' Bob@Example.ORG ');
    assert.equal(normalizeEmail(once), once);
  });
});

describe('isEmailAddress', () => {
  it('says true exactly for what parseEmail accepts', () => {
    for (const raw of ['a@example.com', ' Alice@Example.COM ', 'x+tag@sub.example.org']) {
      assert.equal(isEmailAddress(raw), true, raw);
    }
    for (const raw of [
      '',
      'hunter2',
      'correct horse battery staple',
      'a@b',
      `${'x'.repeat(65)}@e.com`,
    ]) {
      assert.equal(isEmailAddress(raw), false, raw);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatehouseError } from '../errors.ts';
import {
  checkPasswordPolicy,
  MAX_PASSWORD_LENGTH,
  type PasswordPolicy,
} from './password-policy.ts';

const policy: PasswordPolicy = { minLength: 8, maxLength: MAX_PASSWORD_LENGTH };

/** Asserts a policy refusal: `invalid_input` on the `password` field, with a message matching `message`. */
function assertRefused(run: () => void, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof GatehouseError, `expected a GatehouseError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.field, 'password');
    assert.match(error.message, message);
    return true;
  });
}

describe('checkPasswordPolicy: length', () => {
  it('refuses a password shorter than the minimum and says how long it must be', () => {
    assertRefused(() => checkPasswordPolicy('tR4v-9q', policy), /at least 8 characters/);
  });

  it('accepts a password of exactly the minimum length', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('tR4v-9qZ', policy));
  });

  it('uses the configured minimum length', () => {
    const strict: PasswordPolicy = { minLength: 12, maxLength: MAX_PASSWORD_LENGTH };
    assertRefused(() => checkPasswordPolicy('tR4v-9qZ-x1', strict), /at least 12 characters/);
    assert.doesNotThrow(() => checkPasswordPolicy('tR4v-9qZ-x1k', strict));
  });

  it('allows at most 128 characters (NIST 800-63B)', () => {
    assert.equal(MAX_PASSWORD_LENGTH, 128);
    assert.doesNotThrow(() => checkPasswordPolicy('q'.repeat(128), policy));
    assertRefused(() => checkPasswordPolicy('q'.repeat(129), policy), /at most 128 characters/);
  });

  it('counts length in code points, so 128 emoji pass and 129 fail', () => {
    // Each emoji is one code point but two UTF-16 units: counting units would refuse at 65.
    const emoji128 = '🔑'.repeat(128);
    assert.equal(emoji128.length, 256);
    assert.doesNotThrow(() => checkPasswordPolicy(emoji128, policy));
    assertRefused(() => checkPasswordPolicy('🔑'.repeat(129), policy), /at most 128 characters/);
  });

  it('counts the minimum in code points too, so 8 emoji are long enough and 7 are not', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('🐢🦊🐙🦉🐝🦄🐳🦜', policy));
    assertRefused(() => checkPasswordPolicy('🐢🦊🐙🦉🐝🦄🐳', policy), /at least 8 characters/);
  });
});

describe('checkPasswordPolicy: common passwords', () => {
  for (const common of ['password', 'iloveyou', '12345678', 'qwertyuiop', 'trustno1']) {
    it(`refuses the breached password ${JSON.stringify(common)} and says why`, () => {
      assertRefused(() => checkPasswordPolicy(common, policy), /common|breach/i);
    });
  }

  it('refuses a common password whatever its letter case', () => {
    for (const variant of ['PASSWORD', 'Password', 'pAsSwOrD', 'FootBall', 'ILoveYou']) {
      assertRefused(() => checkPasswordPolicy(variant, policy), /common|breach/i);
    }
  });

  it('does not refuse an uncommon password that merely contains a common one', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('password-under-the-old-oak-tree', policy));
  });
});

describe('checkPasswordPolicy: email', () => {
  const email = 'Alexander.Hamilton@Example.com';

  it('refuses the account email as the password, ignoring case', () => {
    for (const password of [email, email.toLowerCase(), email.toUpperCase()]) {
      assertRefused(() => checkPasswordPolicy(password, policy, email), /email/i);
    }
  });

  it('refuses the local part of the email as the password, ignoring case', () => {
    for (const password of ['Alexander.Hamilton', 'alexander.hamilton', 'ALEXANDER.HAMILTON']) {
      assertRefused(() => checkPasswordPolicy(password, policy, email), /email/i);
    }
  });

  it('compares against the email as typed, with surrounding spaces ignored', () => {
    assertRefused(
      () => checkPasswordPolicy('alexander.hamilton', policy, `  ${email}  `),
      /email/i,
    );
  });

  it('accepts a password that only contains the local part', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('alexander.hamilton.1757', policy, email));
  });

  it('does not compare with an email when none is given', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('alexander.hamilton', policy));
  });
});

describe('checkPasswordPolicy: no composition rules', () => {
  it('accepts a long lower-case passphrase with no digits or symbols', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('correct horse battery staple', policy));
    assert.doesNotThrow(() => checkPasswordPolicy('mellowtangerinesunderneathwindmills', policy));
  });

  it('accepts a digits-only password that is not common', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('8302957146', policy));
  });
});

describe('checkPasswordPolicy: encoding', () => {
  it('refuses a lone surrogate, which UTF-8 hashing would turn into U+FFFD', () => {
    assert.throws(
      () => checkPasswordPolicy('long enough \ud800 passphrase', policy),
      (error: unknown) => error instanceof GatehouseError && error.code === 'invalid_input',
    );
    assert.throws(() => checkPasswordPolicy('long enough \udc00 passphrase', policy));
  });

  it('accepts a correctly paired surrogate (an emoji)', () => {
    assert.doesNotThrow(() => checkPasswordPolicy('long enough 😀 passphrase', policy));
  });
});

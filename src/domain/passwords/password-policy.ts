import { GatehouseError } from '../errors.ts';
import { COMMON_PASSWORDS } from './common-password-list.ts';
import { inWordList } from './word-list.ts';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

/** NIST SP 800-63B 5.1.1.2 / OWASP ASVS 2.1.2: at most 128 characters may be required of us. */
export const MAX_PASSWORD_LENGTH = 128;

// A maintained list of common and breached passwords (ASVS 2.1.7), lower-cased for lookup.
function isCommon(password: string): boolean {
  return inWordList(COMMON_PASSWORDS, password.toLowerCase());
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function reject(message: string): never {
  throw new GatehouseError('invalid_input', message, { field: 'password' });
}

/**
 * Applies the password policy of API.md 1 (NIST 800-63B, ASVS 2.1): length only, counted
 * in Unicode code points (ASVS 2.1.1, 2.1.4), no composition rules (ASVS 2.1.9), and no
 * password found in breach lists or equal to the account's own email.
 */
export function checkPasswordPolicy(
  password: string,
  policy: PasswordPolicy,
  email?: string,
): void {
  // A lone UTF-16 surrogate (`"\ud800"` in JSON) can't be encoded as UTF-8: hashing would turn
  // it into U+FFFD, so different passwords would collide. Refuse it instead.
  if (LONE_SURROGATE.test(password)) reject('Password contains an invalid character');
  const length = [...password].length;
  if (length < policy.minLength) {
    reject(`Password must have at least ${policy.minLength} characters`);
  }
  if (length > policy.maxLength) {
    reject(`Password must have at most ${policy.maxLength} characters`);
  }
  if (isCommon(password)) {
    reject(
      'This password is too common: it appears in lists of breached passwords. Choose another',
    );
  }
  if (email !== undefined) {
    const lowered = password.toLowerCase();
    const address = email.trim().toLowerCase();
    if (lowered === address || lowered === address.split('@')[0]) {
      reject('Password must not be your email address');
    }
  }
}

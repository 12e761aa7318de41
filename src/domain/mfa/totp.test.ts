import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyEncryption } from '../tokens/key-material.ts';
import {
  asTotpCode,
  hashRecoveryCode,
  matchingStep,
  newRecoveryCodes,
  totpCodeAt,
  TotpSecrets,
} from './totp.ts';

// RFC 6238 Appendix B, SHA-1: the ASCII seed "12345678901234567890", in base32. The RFC's
// codes have 8 digits; a 6-digit code is their last 6 (RFC 4226 5.3: the value mod 10^6).
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: [seconds: number, code8: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it('computes the RFC 6238 Appendix B SHA-1 test vectors', () => {
    for (const [seconds, code8] of RFC_VECTORS) {
      assert.equal(
        totpCodeAt(RFC_SECRET, Math.floor(seconds / 30)),
        code8.slice(2),
        `T=${seconds}`,
      );
    }
  });

  it('accepts ±1 step, only steps newer than the last used one', () => {
    const now = new Date(1111111111 * 1000);
    const step = Math.floor(1111111111 / 30);
    for (const delta of [-1, 0, 1]) {
      const code = totpCodeAt(RFC_SECRET, step + delta);
      assert.equal(matchingStep(RFC_SECRET, code, now, -1), step + delta);
      assert.equal(matchingStep(RFC_SECRET, code, now, step + delta), undefined, 'replay');
    }
    assert.equal(matchingStep(RFC_SECRET, totpCodeAt(RFC_SECRET, step - 2), now, -1), undefined);
    assert.equal(matchingStep(RFC_SECRET, totpCodeAt(RFC_SECRET, step + 2), now, -1), undefined);
    assert.equal(matchingStep(RFC_SECRET, '12345', now, -1), undefined);
  });

  it('reads six digits, spaces allowed, as a TOTP code and nothing else', () => {
    assert.equal(asTotpCode('123 456'), '123456');
    assert.equal(asTotpCode('12345'), undefined);
    assert.equal(asTotpCode('ABCDE-FGHIJ'), undefined);
  });

  it('makes 10 distinct recovery codes of 50 bits, hashed per user and normalised', () => {
    const codes = newRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    const code = codes[0]!;
    assert.equal(
      hashRecoveryCode(1, code),
      hashRecoveryCode(1, code.toLowerCase().replace('-', ' ')),
    );
    assert.notEqual(hashRecoveryCode(1, code), hashRecoveryCode(2, code));
  });

  it('seals secrets with the user id as associated data when a key is set', () => {
    const secrets = new TotpSecrets(new KeyEncryption(Buffer.alloc(32, 7)));
    const sealed = secrets.seal(RFC_SECRET, 5);
    assert.equal(sealed.secretEncryption, 'aes-256-gcm');
    assert.ok(!sealed.secret.includes(RFC_SECRET));
    const factor = { userId: 5, createdAt: new Date(), confirmedAt: null, lastUsedStep: -1 };
    assert.equal(secrets.open({ ...factor, ...sealed }), RFC_SECRET);
    assert.throws(() => secrets.open({ ...factor, ...sealed, userId: 6 }));
    assert.throws(() => new TotpSecrets(undefined).open({ ...factor, ...sealed }));
    assert.deepEqual(new TotpSecrets(undefined).seal(RFC_SECRET, 5), {
      secret: RFC_SECRET,
      secretEncryption: 'none',
    });
  });
});

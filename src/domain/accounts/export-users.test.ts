import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toExportRecord } from './export-users.ts';
import type { UserWithHash } from './user.ts';

const user: UserWithHash = {
  id: 7,
  email: 'ada@example.com',
  role: 'admin',
  disabled: false,
  emailVerified: true,
  mfaEnabled: true,
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
};

describe('toExportRecord', () => {
  it('writes every field import reads back, the MFA flag included, and no id', () => {
    assert.deepEqual(toExportRecord(user), {
      email: 'ada@example.com',
      password_hash: user.passwordHash,
      role: 'admin',
      disabled: false,
      email_verified: true,
      mfa_enabled: true,
      created_at: '2026-01-02T03:04:05.000Z',
    });
  });
});

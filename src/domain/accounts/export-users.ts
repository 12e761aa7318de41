import type { UserWithHash } from './user.ts';

/**
 * One line of `gatehouse export` (API.md 10): the fields `gatehouse import` reads back, hash
 * included. When accounts gain a field, it is added here (e.g. `mfa_enabled` with MFA).
 */
export function toExportRecord(user: UserWithHash): Record<string, string | boolean> {
  return {
    email: user.email,
    password_hash: user.passwordHash,
    role: user.role,
    disabled: user.disabled,
    email_verified: user.emailVerified,
    created_at: user.createdAt.toISOString(),
  };
}

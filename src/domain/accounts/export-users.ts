import type { UserWithHash } from './user.ts';

/**
 * One line of `gatehouse export` (API.md 10): the fields `gatehouse import` reads back, hash
 * included. When accounts gain a field, it is added here. `mfa_enabled` is exported so that an
 * import of the file refuses those users (their TOTP secrets and passkeys are not carried)
 * unless `--drop-mfa` says otherwise.
 */
export function toExportRecord(user: UserWithHash): Record<string, string | boolean> {
  return {
    email: user.email,
    password_hash: user.passwordHash,
    role: user.role,
    disabled: user.disabled,
    email_verified: user.emailVerified,
    mfa_enabled: user.mfaEnabled,
    created_at: user.createdAt.toISOString(),
  };
}

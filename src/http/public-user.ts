import type { Static } from 'typebox';
import type { User } from '../domain/accounts/user.ts';
import type { PublicUserSchema } from './schemas.ts';

/** The public view of a user, as every endpoint (and the CLI) shows it: no hash, ever. */
export type PublicUser = Static<typeof PublicUserSchema>;

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    disabled: user.disabled,
    email_verified: user.emailVerified,
    mfa_enabled: user.mfaEnabled,
    created_at: user.createdAt.toISOString(),
  };
}

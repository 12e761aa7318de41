export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  /** API.md 8: the user proved they read mail at `email` (a link was followed). */
  emailVerified: boolean;
  /** API.md 9: the user has a second factor (TOTP or, with migration 0013, a passkey). */
  mfaEnabled: boolean;
  createdAt: Date;
}

/** A user together with the stored password hash; never leaves the domain. */
export interface UserWithHash extends User {
  passwordHash: string;
}

/** The public view of a user, as every endpoint returns it (no hash, ever). */
export interface PublicUser {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  email_verified: boolean;
  mfa_enabled: boolean;
  created_at: string;
}

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
